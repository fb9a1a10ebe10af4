// What leader election needs from the API server: read, create and replace one coordination.k8s.io
// Lease. Every call is bounded: it ends with an error after its timeout, or when the caller's signal
// aborts (the elector aborts a leader's call in flight at its renew deadline).
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { boundedCall } from './api-timeout.ts';

export interface LeaseClient {
  /** The Lease; rejects with an error whose `code` is 404 when there is none. */
  read(signal: AbortSignal): Promise<V1Lease>;
  /** Creates the Lease; rejects with `code` 409 when it exists. */
  create(lease: V1Lease, signal: AbortSignal): Promise<V1Lease>;
  /** Replaces the Lease (optimistic: rejects with `code` 409 when its resourceVersion is stale). */
  replace(lease: V1Lease, signal: AbortSignal): Promise<V1Lease>;
}

/** The LeaseClient of the Lease `namespace/name` through the API server of `kubeConfig`; each call gets at most `timeoutMs`. */
export function kubeLeaseClient(kubeConfig: KubeConfig, namespace: string, name: string, timeoutMs: number): LeaseClient {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  return {
    read: (signal) => api.readNamespacedLease({ name, namespace }, boundedCall(timeoutMs, signal)),
    create: (body, signal) => api.createNamespacedLease({ namespace, body }, boundedCall(timeoutMs, signal)),
    replace: (body, signal) => api.replaceNamespacedLease({ name, namespace, body }, boundedCall(timeoutMs, signal)),
  };
}
