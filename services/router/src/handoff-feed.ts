// The router's half of the streamed hand-off: while stage k streams, stage k+1 is opened on one replica
// with its prompt split at a sentinel, and stage k's text is forwarded to that replica as it arrives,
// so when stage k ends the replica has prefilled all but the tail.
import type { StageAccepted__Output } from '../../shared/generated/fslm/v1/StageAccepted.ts';
import type { StageRun } from '../../shared/generated/fslm/v1/StageRun.ts';
import type { HopHeaders, MessageBus, StageAddress, StageConversation } from './types.ts';
import { HeartbeatWatch } from './heartbeat-watch.ts';

/** The text a template inserts for a stage's output. */
export function insertedText(raw: string): string {
  return raw.trim();
}

/**
 * The part of a still-growing raw text that insertedText() of any continuation starts with (what
 * HandoffFeed has sent once a text is flushed; the feed keeps it incrementally).
 */
export function stableInsertedPrefix(raw: string): string {
  const start = raw.trimStart();
  const end = start.search(/\s+$/);
  return end < 0 ? start : start.slice(0, end);
}

export interface PreparedHandoff {
  conversation: StageConversation;
  /** Null while the replica has not answered yet (the stage runner then starts it once it does). */
  accepted: StageAccepted__Output | null;
  /** Text already sent to the replica (a prefix of what the template will insert). */
  sent: string;
}

type State = 'idle' | 'opening' | 'ready' | 'dead' | 'taken';

export class HandoffFeed {
  private state: State = 'idle';
  private conversation: StageConversation | null = null;
  private accepted: StageAccepted__Output | null = null;
  /** Text sent to the replica: stableInsertedPrefix() of the raw text so far, once flushed. */
  private sent = '';
  /** The raw text after `sent` (leading whitespace of the whole text dropped): sent + pending = raw.trimStart(). */
  private pending = '';
  private seq = 0;
  private watch: HeartbeatWatch | null = null;
  private opens = 0;

  constructor(
    private readonly bus: MessageBus,
    private readonly address: StageAddress,
    private readonly run: StageRun,
    private readonly headers: HopHeaders,
    private readonly heartbeatTimeoutMs: number,
  ) {}

  /** Opens the next stage on some replica (once; again after reset()). */
  open(): void {
    if (this.state !== 'idle') return;
    this.state = 'opening';
    // A feed opened again (after the previous stage was retried) gets a new id on the replicas.
    const id = this.opens++ === 0 ? this.run.request?.request_id : `${this.run.request?.request_id}${this.opens}`;
    const conversation = this.bus.open(this.address, { ...this.run, request: { ...this.run.request, request_id: id } }, this.headers);
    this.conversation = conversation;
    conversation.listen((event) => {
      if (this.conversation !== conversation || this.state === 'taken') return;
      this.watch?.heard();
      if (event.type === 'accepted') {
        this.accepted = event.accepted;
        this.state = 'ready';
        this.flush();
      } else if (event.type === 'error' || event.type === 'result') {
        this.fail();
      }
    });
    this.watch = new HeartbeatWatch(this.heartbeatTimeoutMs, () => this.fail());
  }

  /** More raw text of the previous stage. */
  append(text: string): void {
    this.pending += this.sent === '' && this.pending === '' ? text.trimStart() : text;
    this.flush();
  }

  /** The previous stage starts over (a retry): its text so far no longer counts. */
  reset(): void {
    if (this.state === 'taken') return;
    this.stop('cancelled');
    this.state = 'idle';
    this.sent = '';
    this.pending = '';
    this.seq = 0;
  }

  /** Hands the opened replica over to the stage runner, or null when it failed (plain hand-off then). */
  take(): PreparedHandoff | null {
    if ((this.state !== 'ready' && this.state !== 'opening') || !this.conversation) {
      this.discard();
      return null;
    }
    this.state = 'taken';
    this.clearWatchdog();
    return { conversation: this.conversation, accepted: this.accepted, sent: this.sent };
  }

  /** Gives the replica up (the request failed or the feed is not needed). */
  discard(): void {
    if (this.state === 'taken') return;
    this.stop('cancelled');
    this.state = 'dead';
  }

  private flush(): void {
    if (this.state !== 'ready' || !this.conversation) return;
    // Trailing whitespace stays pending: insertedText() drops it unless more text follows.
    const text = this.pending.trimEnd();
    if (text === '') return;
    this.pending = this.pending.slice(text.length);
    this.sent += text;
    this.conversation.control({ request_id: this.conversation.requestId, append: { seq: this.seq++, text } }, this.headers);
  }

  private fail(): void {
    if (this.state === 'taken' || this.state === 'dead') return;
    this.stop('cancelled');
    this.state = 'dead';
  }

  private stop(reason: 'cancelled' | 'deadline'): void {
    this.clearWatchdog();
    this.conversation?.cancel(reason);
    this.conversation = null;
    this.accepted = null;
  }

  private clearWatchdog(): void {
    this.watch?.stop();
    this.watch = null;
  }
}
