// A streamed final text across a retry (retry-text-guard.ts): never repeated, never mixed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { RetryTextGuard } from '../src/retry-text-guard.ts';

const diverged = (e: unknown) => e instanceof FslmError && e.code === ErrorCode.Unavailable && /retried on another replica/.test(e.message);

describe('retry text guard', { timeout: 10_000 }, () => {
  test('one attempt: every delta is forwarded as it comes, and the result adds nothing', () => {
    const guard = new RetryTextGuard('final');
    assert.equal(guard.next(1, 'The sky '), 'The sky ');
    assert.equal(guard.next(1, 'is blue.'), 'is blue.');
    assert.equal(guard.finish(1, 'The sky is blue.'), '');
  });

  test('a retry that repeats what was sent is held back until it goes further, then only the new part is forwarded', () => {
    const guard = new RetryTextGuard('final');
    guard.next(1, 'The sky ');
    guard.next(1, 'is');
    // The replica dies; attempt 2 starts over with the same (greedy) text.
    assert.equal(guard.next(2, 'The '), '');
    assert.equal(guard.next(2, 'sky i'), '');
    assert.equal(guard.next(2, 's blue'), ' blue');
    assert.equal(guard.next(2, '.'), '.');
    assert.equal(guard.finish(2, 'The sky is blue.'), '');
    assert.equal(guard.forwarded, 'The sky is blue.');
  });

  test('a retry whose text differs from what was sent ends the stream', () => {
    const guard = new RetryTextGuard('final');
    guard.next(1, 'The sky is');
    assert.equal(guard.next(2, 'The '), '');
    assert.throws(() => guard.next(2, 'ocean'), diverged);
  });

  test('a retry that ends shorter than what was sent ends the stream', () => {
    const guard = new RetryTextGuard('final');
    guard.next(1, 'The sky is');
    assert.throws(() => guard.finish(2, 'The sky'), diverged);
  });

  test('a retry that streamed nothing but whose result continues the sent text forwards the rest', () => {
    const guard = new RetryTextGuard('final');
    guard.next(1, 'The sky');
    assert.equal(guard.finish(2, 'The sky is blue.'), ' is blue.');
  });
});
