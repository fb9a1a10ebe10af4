// Talks to one stage's NATS door as a router would, without a router: a run with its own reply
// subscription, its events and error reply, and control messages to the replica that accepted it.
import { createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';
import { busCodec, requestHeaders, subjects } from '../../../services/shared/bus-codec.ts';
import { errorOfReply } from '../../../services/shared/bus-errors.ts';
import type { FslmError } from '../../../services/shared/errors.ts';
import type { StageControl } from '../../../services/shared/generated/fslm/v1/StageControl.ts';
import type { StageEvent__Output } from '../../../services/shared/generated/fslm/v1/StageEvent.ts';
import type { StageRun } from '../../../services/shared/generated/fslm/v1/StageRun.ts';

export interface StageConversation {
  requestId: string;
  events: StageEvent__Output[];
  /** The error reply, once one came. */
  error: FslmError | null;
  /** Resolves with the first event (seen or coming) that matches; rejects after `timeoutMs`. */
  next(match: (event: StageEvent__Output) => boolean, what: string, timeoutMs?: number): Promise<StageEvent__Output>;
  /** Resolves with the error reply or the result, whichever comes; rejects after `timeoutMs`. */
  end(timeoutMs?: number): Promise<{ error: FslmError | null; result: StageEvent__Output['result'] | null }>;
  /** A StageControl to the accepting replica (waits for accepted). */
  control(message: Omit<StageControl, 'request_id'>): Promise<void>;
  /** A cancel on the stage's cancel subject. */
  cancel(reason?: 'cancelled' | 'deadline'): void;
  close(): void;
}

/** Publishes `run` to the stage's run subject with a reply subscription of its own. */
export function openRun(nc: NatsConnection, prefix: string, run: StageRun, options: { deadlineMs?: number } = {}): StageConversation {
  const requestId = run.request?.request_id ?? '';
  const inbox = createInbox();
  const events: StageEvent__Output[] = [];
  let error: FslmError | null = null;
  const waiters = new Set<() => void>();
  const sub: Subscription = nc.subscribe(inbox, {
    callback: (_e, msg: Msg) => {
      const failure = errorOfReply(msg);
      if (failure) error = failure;
      else events.push(busCodec.decodeEvent(msg.data));
      for (const wake of [...waiters]) wake();
    },
  });
  nc.publish(subjects.run(prefix), busCodec.encodeRun(run), { reply: inbox, headers: requestHeaders(requestId, options.deadlineMs ?? Infinity) });
  const until = <T>(found: () => T | undefined, what: string, timeoutMs: number) => new Promise<T>((resolve, reject) => {
    const check = () => {
      const value = found();
      if (value === undefined) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`${requestId}: no ${what} within ${timeoutMs} ms; events ${JSON.stringify(events.map((e) => e.event))}, error ${error?.message}`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
  const conversation: StageConversation = {
    requestId,
    events,
    get error() {
      return error;
    },
    next: (match, what, timeoutMs = 30_000) => until(() => events.find(match), what, timeoutMs),
    end: (timeoutMs = 60_000) => until(() => {
      if (error) return { error, result: null };
      const result = events.find((e) => e.event === 'result')?.result;
      return result ? { error: null, result } : undefined;
    }, 'result or error', timeoutMs),
    control: async (message) => {
      const accepted = await conversation.next((e) => e.event === 'accepted', 'accepted');
      nc.publish(accepted.accepted!.control_subject, busCodec.encodeControl({ request_id: requestId, ...message }), {
        headers: requestHeaders(requestId, options.deadlineMs ?? Infinity),
      });
    },
    cancel: (reason = 'cancelled') => {
      nc.publish(subjects.cancel(prefix), busCodec.encodeControl({ request_id: requestId, cancel: { reason } }));
    },
    close: () => sub.unsubscribe(),
  };
  return conversation;
}
