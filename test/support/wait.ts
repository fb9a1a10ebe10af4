// Bounded waits for tests: every wait names what it waits for and fails with that name when its bound
// passes, instead of hanging until the test runner's own timeout.

/** Bound and description of a wait. */
export interface WaitOptions {
  /** How long to wait before failing, in milliseconds. */
  timeoutMs: number;
  /** What is awaited, for the error message ("the stage to log ready"). */
  what: string;
}

/** Options of {@link waitFor}: a bound plus how often the condition is checked. */
export interface PollOptions extends WaitOptions {
  /** Milliseconds between two checks (default 100). */
  intervalMs?: number;
}

/** Thrown when a bounded wait passes its bound. */
export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, detail?: unknown) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${detail === undefined ? '' : `: ${detail instanceof Error ? detail.message : String(detail)}`}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Checks `predicate` until it returns a value other than `undefined`/`false` and resolves with that value.
 * A throwing check counts as "not yet"; its last error is quoted when the wait times out.
 * Use it for state that has no event to wait on (an API server's objects, a file written by a child);
 * prefer {@link within} on the event itself when there is one.
 * @throws WaitTimeoutError after `timeoutMs`.
 */
export async function waitFor<T>(predicate: () => T | undefined | false | Promise<T | undefined | false>, options: PollOptions): Promise<T> {
  const { timeoutMs, what, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      lastError = e;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(what, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

/**
 * Resolves or rejects as `promise` does, or rejects with a WaitTimeoutError once `timeoutMs` has passed.
 * The promise itself is not cancelled: stop whatever it waits on in the caller's cleanup.
 */
export function within<T>(promise: Promise<T>, options: WaitOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WaitTimeoutError(options.what, options.timeoutMs)), options.timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
