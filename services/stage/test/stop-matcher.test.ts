import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StopMatcher } from '../src/stop-matcher.ts';

function feed(stops: string[], pieces: string[]): { emitted: string; stoppedAt: number } {
  const matcher = new StopMatcher(stops);
  let emitted = '';
  for (let i = 0; i < pieces.length; i++) {
    const { emit, stopped } = matcher.push(pieces[i]);
    emitted += emit;
    if (stopped) return { emitted, stoppedAt: i };
  }
  return { emitted: emitted + matcher.flush(), stoppedAt: -1 };
}

describe('stop strings', { timeout: 60_000 }, () => {
  test('text without stop strings passes through unchanged', () => {
    assert.deepEqual(feed([], ['a', 'b']), { emitted: 'ab', stoppedAt: -1 });
    assert.deepEqual(feed(['###'], ['hello', ' world']), { emitted: 'hello world', stoppedAt: -1 });
  });

  test('a stop string split across pieces is never emitted', () => {
    assert.deepEqual(feed(['\n\nUser:'], ['Answer.', '\n', '\nUs', 'er:', ' more']), { emitted: 'Answer.', stoppedAt: 3 });
  });

  test('a held prefix that does not complete is released', () => {
    assert.deepEqual(feed(['STOP'], ['go ST', 'ART now']), { emitted: 'go START now', stoppedAt: -1 });
  });

  test('the earliest of several stop strings wins', () => {
    assert.deepEqual(feed(['b', 'a'], ['xxab']), { emitted: 'xx', stoppedAt: 0 });
  });
});
