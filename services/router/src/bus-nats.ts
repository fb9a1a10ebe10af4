// MessageBus over a real NATS connection: a reply subject per stage attempt (under one muxed inbox),
// StageRun published to the stage's queue subject, StageControl to the accepting replica, cancels broadcast to every replica;
// DescribeRequest as a plain NATS request to <prefix>.describe, ScoreRequest to <prefix>.score.
import { createInbox, ErrorCode as NatsErrorCode, NatsError, type Msg, type NatsConnection, type Subscription } from 'nats';
import { busCodec, requestHeaders, subjects } from '../../shared/bus-codec.ts';
import { errorOfReply, isNoResponders } from '../../shared/bus-errors.ts';
import { ErrorCode, errors, errorMessage, FslmError } from '../../shared/errors.ts';
import type { DescribeResponse__Output } from '../../shared/generated/fslm/v1/DescribeResponse.ts';
import type { ScoreRequest } from '../../shared/generated/fslm/v1/ScoreRequest.ts';
import type { ScoreResponse__Output } from '../../shared/generated/fslm/v1/ScoreResponse.ts';
import type { StageControl } from '../../shared/generated/fslm/v1/StageControl.ts';
import type { StageRun } from '../../shared/generated/fslm/v1/StageRun.ts';
import { CancelEcho } from './cancel-echo.ts';
import type { ConversationEvent, HopHeaders, MessageBus, StageAddress, StageConversation } from './types.ts';

export class NatsBus implements MessageBus {
  /** One wildcard subscription for every conversation's replies (like nats.js request muxing). */
  private readonly inbox = createInbox();
  private readonly conversations = new Map<string, NatsConversation>();
  private readonly subscription: Subscription;
  private nextId = 0;

  private refusal: Error | null = null;
  /** Cancelled conversations whose replica may not have heard the cancel (cancel-echo.ts). */
  private readonly echo = new CancelEcho();

  /** `log` reports cancels sent again (JSON events). */
  constructor(private readonly nc: NatsConnection, private readonly log: (event: Record<string, unknown>) => void = () => undefined) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) {
          this.refusal = error;
          return;
        }
        const token = msg.subject.slice(this.inbox.length + 1);
        const conversation = this.conversations.get(token);
        if (conversation) conversation.receive(msg);
        else this.echo.heard(token);
      },
    });
  }

  /** Resolves once the server holds the reply subscription; throws when it refused it (the identity lacks the permission). */
  async ready(): Promise<void> {
    // The server answers a refused subscription before the flush's PONG.
    await this.nc.flush();
    if (this.refusal) throw new Error(`NATS refused the router's reply subscription ${this.inbox}.* (check its identity's permissions): ${this.refusal.message}`);
  }

  open(address: StageAddress, run: StageRun, headers: HopHeaders): StageConversation {
    const requestId = run.request?.request_id ?? '';
    const token = (this.nextId++).toString(36);
    const conversation = new NatsConversation(this.nc, address, requestId, headers, (resend) => {
      this.conversations.delete(token);
      if (resend) {
        this.echo.remember(token, headers.deadlineMs, () => {
          this.log({ event: 'cancel-resent', request_id: requestId, subject: subjects.cancel(address.subjectPrefix) });
          resend();
        });
      }
    });
    this.conversations.set(token, conversation);
    this.nc.publish(subjects.run(address.subjectPrefix), busCodec.encodeRun(run), {
      reply: `${this.inbox}.${token}`,
      headers: requestHeaders(headers.requestId, headers.deadlineMs, headers.trace),
    });
    return conversation;
  }

  /** One NATS request to a stage's queue group; no replica, no answer in time or a closed connection is UNAVAILABLE. */
  private async request(address: StageAddress, subject: string, data: Uint8Array, timeoutMs: number, headers?: HopHeaders): Promise<Msg> {
    try {
      return await this.nc.request(subject, data, {
        timeout: Math.max(1, Math.round(timeoutMs)),
        ...(headers ? { headers: requestHeaders(headers.requestId, headers.deadlineMs, headers.trace) } : {}),
      });
    } catch (error) {
      if (error instanceof NatsError && error.code === NatsErrorCode.NoResponders) {
        throw errors.unavailable(`stage ${address.stage}: no replica is listening on ${subject}`, error);
      }
      if (error instanceof NatsError && error.code === NatsErrorCode.Timeout) {
        throw errors.unavailable(`stage ${address.stage}: no replica answered on ${subject} within ${Math.round(timeoutMs)} ms`, error);
      }
      throw errors.unavailable(`stage ${address.stage}: cannot ask ${subject}: ${errorMessage(error)}`, error);
    }
  }

  async score(address: StageAddress, request: ScoreRequest, headers: HopHeaders, signal: AbortSignal): Promise<ScoreResponse__Output> {
    const requestId = request.request_id ?? '';
    if (signal.aborted) throw signal.reason;
    const asked = this.request(address, subjects.score(address.subjectPrefix), busCodec.encodeScoreRequest(request), headers.deadlineMs - Date.now(), headers);
    asked.catch(() => undefined); // an abort may win the race below
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        const reason = signal.reason instanceof FslmError && signal.reason.code === ErrorCode.DeadlineExceeded ? 'deadline' : 'cancelled';
        this.nc.publish(subjects.cancel(address.subjectPrefix), busCodec.encodeControl({ request_id: requestId, cancel: { reason } }));
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    let reply: Msg;
    try {
      reply = await Promise.race([asked, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    const error = errorOfReply(reply);
    if (error) throw new FslmError(error.code, `stage ${address.stage}: ${error.message}`);
    try {
      return busCodec.decodeScoreResponse(reply.data);
    } catch (cause) {
      throw errors.unavailable(`stage ${address.stage} sent a malformed ScoreResponse: ${errorMessage(cause)}`, cause);
    }
  }

  async describe(address: StageAddress, timeoutMs: number): Promise<DescribeResponse__Output> {
    const reply = await this.request(address, subjects.describe(address.subjectPrefix), new Uint8Array(0), timeoutMs);
    const error = errorOfReply(reply);
    if (error) throw errors.unavailable(`stage ${address.stage} cannot describe itself: ${error.code}: ${error.message}`, error);
    try {
      return busCodec.decodeDescribe(reply.data);
    } catch (cause) {
      throw errors.unavailable(`stage ${address.stage} sent a malformed DescribeResponse: ${errorMessage(cause)}`, cause);
    }
  }

  /** Drains the connection, or closes it outright after `drainTimeoutMs` (a server that is gone cannot be drained). */
  async close(drainTimeoutMs = 2000): Promise<void> {
    this.subscription.unsubscribe();
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainTimeoutMs);
    });
    await Promise.race([this.nc.drain().catch(() => undefined), timedOut]);
    clearTimeout(timer);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => undefined);
  }
}

class NatsConversation implements StageConversation {
  private listener: ((event: ConversationEvent) => void) | null = null;
  private readonly buffered: ConversationEvent[] = [];
  private replicaSubject: string | null = null;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly address: StageAddress,
    readonly requestId: string,
    private readonly headers: HopHeaders,
    /** Called once when the conversation ends; with the function that sends its cancel again when it was cancelled. */
    private readonly onClose: (resend: (() => void) | null) => void,
  ) {}

  listen(listener: (event: ConversationEvent) => void): void {
    this.listener = listener;
    for (const event of this.buffered.splice(0)) listener(event);
  }

  receive(msg: Msg): void {
    if (this.closed) return;
    const event = toEvent(msg);
    if (event.type === 'accepted' && event.accepted.control_subject) this.replicaSubject = event.accepted.control_subject;
    if (this.listener) this.listener(event);
    else this.buffered.push(event);
  }

  control(message: StageControl, headers: HopHeaders): void {
    if (this.closed) return;
    if (!this.replicaSubject) throw errors.internal(`no replica has accepted ${this.requestId} yet`);
    this.nc.publish(this.replicaSubject, busCodec.encodeControl(message), {
      headers: requestHeaders(headers.requestId, headers.deadlineMs, headers.trace),
    });
  }

  cancel(reason: 'cancelled' | 'deadline'): void {
    if (this.closed) return;
    const send = () => {
      if (this.nc.isClosed()) return;
      this.nc.publish(subjects.cancel(this.address.subjectPrefix), busCodec.encodeControl({ request_id: this.requestId, cancel: { reason } }), {
        headers: requestHeaders(this.headers.requestId, this.headers.deadlineMs, this.headers.trace),
      });
    };
    send();
    this.end(send);
  }

  close(): void {
    this.end(null);
  }

  private end(resend: (() => void) | null): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(resend);
    this.listener = null;
    this.buffered.length = 0;
  }
}

function toEvent(msg: Msg): ConversationEvent {
  const error = errorOfReply(msg);
  if (error) return { type: 'error', error, noResponders: isNoResponders(msg) };
  try {
    const event = busCodec.decodeEvent(msg.data);
    switch (event.event) {
      case 'accepted':
        return { type: 'accepted', accepted: event.accepted! };
      case 'heartbeat':
        return { type: 'heartbeat' };
      case 'delta':
        return { type: 'delta', delta: event.delta! };
      case 'result':
        return { type: 'result', result: event.result! };
      default:
        return { type: 'error', error: errors.internal('the stage sent an empty event') };
    }
  } catch (error) {
    return { type: 'error', error: errors.internal(`the stage sent a malformed event: ${errorMessage(error)}`) };
  }
}
