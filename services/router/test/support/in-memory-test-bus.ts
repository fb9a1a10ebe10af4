// InMemoryTestBus: a test double of the router's MessageBus for unit tests of pure logic (stage and
// stack runners, the hand-off feed). No replica runs: the test plays the replicas by emitting their
// events on the conversations the router opens, and scripts what each stage's describe answers. Every
// integration test uses a real nats-server and real stage processes instead (test/stack).
import { errors, FslmError } from '../../../shared/errors.ts';
import type { DescribeResponse__Output } from '../../../shared/generated/fslm/v1/DescribeResponse.ts';
import type { StageControl } from '../../../shared/generated/fslm/v1/StageControl.ts';
import type { StageRun } from '../../../shared/generated/fslm/v1/StageRun.ts';
import type { ConversationEvent, HopHeaders, MessageBus, StageAddress, StageConversation } from '../../src/types.ts';

/** One conversation the router opened; the test answers for the replica. */
export class TestConversation implements StageConversation {
  readonly requestId: string;
  readonly controls: StageControl[] = [];
  cancelled: 'cancelled' | 'deadline' | null = null;
  closed = false;
  private listener: ((event: ConversationEvent) => void) | null = null;
  private readonly buffered: ConversationEvent[] = [];

  constructor(readonly address: StageAddress, readonly run: StageRun, readonly headers: HopHeaders) {
    this.requestId = run.request?.request_id ?? '';
  }

  listen(listener: (event: ConversationEvent) => void): void {
    this.listener = listener;
    for (const event of this.buffered.splice(0)) listener(event);
  }

  control(message: StageControl): void {
    if (!this.closed) this.controls.push(message);
  }

  cancel(reason: 'cancelled' | 'deadline'): void {
    if (this.closed) return;
    this.cancelled = reason;
    this.close();
  }

  close(): void {
    this.closed = true;
    this.listener = null;
  }

  /** The replica sends an event (dropped once the router stopped listening, as on NATS). */
  emit(event: ConversationEvent): void {
    if (this.closed) return;
    if (this.listener) this.listener(event);
    else this.buffered.push(event);
  }

  accept(replica = 'r1'): void {
    this.emit({ type: 'accepted', accepted: { replica, control_subject: `${this.address.subjectPrefix}.replica.${replica}`, model: 'm', model_version: 'v1', adapter_version: 'a1' } });
  }

  delta(text: string, seq = 0): void {
    this.emit({ type: 'delta', delta: { seq: String(seq), text, tokens: 1, logprobs: [] } });
  }

  result(text: string): void {
    this.emit({
      type: 'result',
      result: {
        text, finish_reason: 'FINISH_REASON_EOS', usage: { prompt_tokens: 3, completion_tokens: 2 },
        timings: { queue_ms: 0, prefill_ms: 1, first_token_ms: 1, decode_ms: 1, total_ms: 2 }, model_version: 'v1', request_id: this.requestId, logprobs: [],
      },
    });
  }

  fail(error: FslmError, noResponders = false): void {
    this.emit({ type: 'error', error, noResponders });
  }
}

export const testLimits = (overrides: Partial<DescribeResponse__Output> = {}): DescribeResponse__Output => ({
  manifest: { decoder: { max_position_embeddings: 2048 }, version: 'v1' } as DescribeResponse__Output['manifest'],
  precision: 'fp32', has_chat_template: true, max_batch_size: 4, max_queue: 8, max_prompt_tokens: 512, max_new_tokens_limit: 256,
  default_max_new_tokens: 64,
  ...overrides,
} as DescribeResponse__Output);

export class InMemoryTestBus implements MessageBus {
  readonly opened: TestConversation[] = [];
  /** What each subject prefix's describe answers (an error is thrown); unset prefixes have no responders. */
  readonly describes = new Map<string, DescribeResponse__Output | FslmError>();
  describeCalls = 0;
  private waiters: Array<(c: TestConversation) => void> = [];

  open(address: StageAddress, run: StageRun, headers: HopHeaders): TestConversation {
    const conversation = new TestConversation(address, run, headers);
    this.opened.push(conversation);
    const waiter = this.waiters.shift();
    waiter?.(conversation);
    return conversation;
  }

  /** Resolves with the next conversation the router opens (or the n-th overall once it exists). */
  nextOpen(): Promise<TestConversation> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The n-th conversation opened (0-based): at once if it exists, else when it is opened. */
  async opening(n: number): Promise<TestConversation> {
    while (this.opened.length <= n) await this.nextOpen();
    return this.opened[n];
  }

  async describe(address: StageAddress): Promise<DescribeResponse__Output> {
    this.describeCalls++;
    const answer = this.describes.get(address.subjectPrefix);
    if (answer === undefined) throw errors.unavailable(`stage ${address.stage}: no replica is listening on ${address.subjectPrefix}.describe`);
    if (answer instanceof FslmError) throw answer;
    return answer;
  }

  /** No replica scores on this bus (StackService.Score is tested with real stages, test/stack). */
  async score(address: StageAddress): Promise<never> {
    throw errors.unavailable(`stage ${address.stage}: no replica is listening on ${address.subjectPrefix}.score`);
  }

  /** Every stage of a stack describes itself with `limits`. */
  describeAll(prefixes: string[], limits = testLimits()): this {
    for (const prefix of prefixes) this.describes.set(prefix, limits);
    return this;
  }

  async close(): Promise<void> {}
}
