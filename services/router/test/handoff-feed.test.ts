// The router's half of the hand-off, against an in-memory bus double (pure logic; the real NATS path
// is covered by test/stack/handoff.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StageControl } from '../../shared/generated/fslm/v1/StageControl.ts';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { HandoffFeed, insertedText, stableInsertedPrefix } from '../src/handoff-feed.ts';
import type { ConversationEvent, MessageBus, StageConversation } from '../src/types.ts';

describe('hand-off feed', { timeout: 10_000 }, () => {
  test('only text that the final, trimmed text must start with is forwarded', () => {
    assert.equal(stableInsertedPrefix('  hello wor'), 'hello wor');
    assert.equal(stableInsertedPrefix('\nhello world  \n'), 'hello world');
    assert.equal(stableInsertedPrefix('   '), '');
    for (const raw of [' a b ', 'a\n\nb\n', ' x']) assert.ok(insertedText(raw + 'more').startsWith(stableInsertedPrefix(raw)));
  });

  /** A test double of MessageBus that records what the feed sends (pure logic). */
  class RecordingBus implements MessageBus {
    readonly sent: StageControl[] = [];
    cancelled = 0;
    listener: ((e: ConversationEvent) => void) | null = null;
    open(): StageConversation {
      return {
        requestId: 'r.b.handoff',
        listen: (l) => (this.listener = l),
        control: (m) => this.sent.push(m),
        cancel: () => this.cancelled++,
        close: () => undefined,
      };
    }
    async score(): Promise<never> {
      throw new FslmError(ErrorCode.Unavailable, 'a recording bus scores nothing');
    }
    async describe(): Promise<never> {
      throw new FslmError(ErrorCode.Unavailable, 'a recording bus describes nothing');
    }
    async close() {}
  }

  test('appends wait for the replica to accept, then flow in order; take() hands the replica over', () => {
    const bus = new RecordingBus();
    const feed = new HandoffFeed(bus, { stack: 's', stage: 'b', subjectPrefix: 'fslm.s.b' }, {}, { requestId: 'r', deadlineMs: Infinity, trace: {} }, 60_000);
    feed.open();
    feed.append(' The quick');
    assert.equal(bus.sent.length, 0);
    bus.listener!({ type: 'accepted', accepted: { replica: 'r1', control_subject: 'fslm.s.b.replica.r1', model: 'm', model_version: 'v', adapter_version: '' } });
    feed.append(' brown ');
    feed.append('fox');
    assert.deepEqual(bus.sent.map((m) => [Number(m.append!.seq), m.append!.text]), [[0, 'The quick'], [1, ' brown'], [2, ' fox']]);
    const prepared = feed.take();
    assert.equal(prepared?.sent, 'The quick brown fox');
    assert.equal(bus.cancelled, 0);
  });

  test('a feed whose replica has not answered yet is still handed over; a failed one is given up', () => {
    const bus = new RecordingBus();
    const feed = new HandoffFeed(bus, { stack: 's', stage: 'b', subjectPrefix: 'fslm.s.b' }, {}, { requestId: 'r', deadlineMs: Infinity, trace: {} }, 60_000);
    feed.open();
    const prepared = feed.take();
    assert.equal(prepared?.accepted, null);
    assert.equal(bus.cancelled, 0);

    const failing = new HandoffFeed(bus, { stack: 's', stage: 'b', subjectPrefix: 'fslm.s.b' }, {}, { requestId: 'r', deadlineMs: Infinity, trace: {} }, 60_000);
    failing.open();
    bus.listener!({ type: 'error', error: new FslmError(ErrorCode.Unavailable, 'gone') });
    assert.equal(failing.take(), null);
    assert.equal(bus.cancelled, 1);
  });
});
