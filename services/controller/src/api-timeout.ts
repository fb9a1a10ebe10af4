// A bound on every call the controller makes to the API server: @kubernetes/client-node's request
// options with a middleware that gives the request an AbortSignal, so a call to a hung or unreachable
// API server fails (with an AbortError / TimeoutError) instead of waiting forever.
import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

/** How long one API call (not a watch) may take before it is abandoned. */
export const DEFAULT_API_TIMEOUT_MS = 30_000;

/**
 * Request options that end the call after `timeoutMs`, or when `signal` aborts, whichever comes first.
 * `options` (e.g. from setHeaderOptions) keep their middleware; this one is appended.
 */
export function boundedCall(timeoutMs: number, signal?: AbortSignal, options?: ConfigurationOptions<ObservableMiddleware>): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      context.setSignal(signal ? AbortSignal.any([timeout, signal]) : timeout);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { ...options, middleware: [...(options?.middleware ?? []), middleware], middlewareMergeStrategy: 'append' };
}
