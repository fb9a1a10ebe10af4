// Cancels that are sent again. NATS delivers at most once: a cancel published while the replica's
// connection is moving to another server is lost, and the replica would work on (or wait for a hand-off
// start) until the request's deadline. The bus remembers the conversations it cancelled until their
// deadline; when one of them is heard from again (a heartbeat, a delta), the cancel goes out again, at
// most once per ECHO_INTERVAL_MS.

/** The least time between two repeats of one cancel (ms). */
export const ECHO_INTERVAL_MS = 250;
/** How long a cancelled conversation is remembered when its deadline is further away, or none (ms). */
export const MAX_REMEMBER_MS = 10 * 60_000;

interface Cancelled {
  resend: () => void;
  until: number;
  lastSent: number;
}

export class CancelEcho {
  private readonly cancelled = new Map<string, Cancelled>();

  /** `token` was cancelled with `resend` (which publishes the cancel); remembered until `deadlineMs`. */
  remember(token: string, deadlineMs: number, resend: () => void): void {
    const now = Date.now();
    for (const [key, entry] of this.cancelled) {
      if (entry.until > now) break;
      this.cancelled.delete(key);
    }
    this.cancelled.set(token, { resend, until: Math.min(deadlineMs, now + MAX_REMEMBER_MS), lastSent: now });
  }

  /** Something arrived for `token`: if it was cancelled, the cancel is sent again (not more often than ECHO_INTERVAL_MS). */
  heard(token: string): void {
    const entry = this.cancelled.get(token);
    if (!entry) return;
    const now = Date.now();
    if (now > entry.until) {
      this.cancelled.delete(token);
      return;
    }
    if (now - entry.lastSent < ECHO_INTERVAL_MS) return;
    entry.lastSent = now;
    entry.resend();
  }

  /** Conversations remembered now. */
  get size(): number {
    return this.cancelled.size;
  }
}
