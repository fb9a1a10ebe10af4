// The answer an OpenAI client streams stays whole when the final stage is retried: a retry that repeats
// the sent text sends only what is new; one that differs is refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnswerStream } from '../src/answer-stream.ts';

describe('AnswerStream', { timeout: 10_000 }, () => {
  test('passes the deltas of one attempt through', () => {
    const s = new AnswerStream();
    assert.deepEqual(['The ', 'sky ', 'is blue.'].map((d) => s.push(1, d)), ['The ', 'sky ', 'is blue.']);
  });

  test('a retry that repeats what was sent sends only the new text', () => {
    const s = new AnswerStream();
    s.push(1, 'The sky ');
    s.push(1, 'is');
    assert.deepEqual(['The ', 'sky i', 's blue', '.'].map((d) => s.push(2, d)), ['', '', ' blue', '.']);
  });

  test('a retry that differs from what was sent is refused with UNAVAILABLE', () => {
    const s = new AnswerStream();
    s.push(1, 'The sky is');
    assert.equal(s.push(2, 'The '), '');
    assert.throws(() => s.push(2, 'sea'), (e: { code?: string }) => e.code === 'UNAVAILABLE');
  });

  test('a retry that differs before it reaches the end of the sent text is refused too', () => {
    const s = new AnswerStream();
    s.push(1, 'abcdef');
    assert.throws(() => s.push(2, 'abX'), (e: { code?: string }) => e.code === 'UNAVAILABLE');
  });

  test('at the end, text whose deltas were lost is sent; an answer that does not continue the sent text is refused', () => {
    const s = new AnswerStream();
    s.push(1, 'The sky ');
    assert.equal(s.finish('The sky is blue.'), 'is blue.');
    const t = new AnswerStream();
    t.push(1, 'The sea');
    assert.throws(() => t.finish('The sky is blue.'), (e: { code?: string }) => e.code === 'UNAVAILABLE');
  });
});
