// Far deadlines on fslm's gRPC servers. grpc-js 1.14 turns a call's `grpc-timeout` header into
// milliseconds with `| 0` (a 32-bit integer) and arms one setTimeout with it: a deadline more than
// 2^31 ms (24.8 days) away wraps below zero and the call fails at once with DEADLINE_EXCEEDED, and one
// past 2^32 ms (49.7 days) wraps to a few hours. A client's deadline is the request's promise, so the
// servers use this reading of the header instead: the whole timeout, the timer re-armed in steps a
// Node timer holds (long-timer.ts). The replacement is installed only while the installed grpc-js
// still has the wrapping code; test/stack/far-deadlines.test.ts checks the behaviour end to end.
import { status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { MAX_TIMER_MS } from './long-timer.ts';

/** `grpc-timeout`: up to 8 digits and a unit (gRPC over HTTP/2). */
const TIMEOUT_HEADER = /^(\d{1,8})\s*([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** The parts of grpc-js's server call this reading uses (internal to grpc-js, hence declared here). */
interface ServerCallInternals {
  deadline: number;
  deadlineTimer: NodeJS.Timeout | null;
  sendStatus(status: Pick<StatusObject, 'code' | 'details'> & { metadata: null }): void;
}

type TimeoutReader = (this: ServerCallInternals, header: string | Buffer) => void;

let installed = false;

/**
 * Makes every grpc-js server in this process honour a call's deadline however far it is. Idempotent.
 * Returns whether the replacement is in place (false when grpc-js reads the header without wrapping).
 */
export function honourFarDeadlines(): boolean {
  if (installed) return true;
  const prototype = BaseServerInterceptingCall.prototype as unknown as { handleTimeoutHeader?: TimeoutReader };
  const original = prototype.handleTimeoutHeader;
  if (typeof original !== 'function' || !/\|\s*0\b/.test(String(original))) return false;
  prototype.handleTimeoutHeader = function handleTimeoutHeader(this: ServerCallInternals, header: string | Buffer): void {
    const match = TIMEOUT_HEADER.exec(header.toString().trim());
    // A malformed header: grpc-js's own reading refuses it (INTERNAL).
    if (!match) return original.call(this, header);
    this.deadline = Date.now() + Number(match[1]) * UNIT_MS[match[2]];
    const arm = () => {
      const left = this.deadline - Date.now();
      this.deadlineTimer = left > MAX_TIMER_MS
        ? setTimeout(arm, MAX_TIMER_MS)
        : setTimeout(() => this.sendStatus({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: null }), Math.max(0, left));
    };
    arm();
  };
  installed = true;
  return true;
}
