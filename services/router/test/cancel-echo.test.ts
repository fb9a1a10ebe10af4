// A cancelled conversation that is heard from again gets its cancel again (NATS may have lost the first),
// not more often than once per interval, and only until its deadline.
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { CancelEcho, ECHO_INTERVAL_MS } from '../src/cancel-echo.ts';

describe('CancelEcho', { timeout: 10_000 }, () => {
  test('a cancelled conversation heard from again is cancelled again, once per interval, until its deadline', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const echo = new CancelEcho();
      let sent = 0;
      echo.remember('a', 1_000_000 + 10 * ECHO_INTERVAL_MS, () => sent++);
      echo.heard('a');
      assert.equal(sent, 0, 'not again right after the first cancel');
      mock.timers.tick(ECHO_INTERVAL_MS);
      echo.heard('a');
      echo.heard('a');
      assert.equal(sent, 1);
      mock.timers.tick(ECHO_INTERVAL_MS);
      echo.heard('a');
      assert.equal(sent, 2);
      mock.timers.tick(10 * ECHO_INTERVAL_MS);
      echo.heard('a');
      assert.equal(sent, 2, 'past its deadline it is forgotten');
      assert.equal(echo.size, 0);
    } finally {
      mock.timers.reset();
    }
  });

  test('conversations that were not cancelled are not answered; expired ones are dropped as new ones come', () => {
    mock.timers.enable({ apis: ['Date'], now: 0 });
    try {
      const echo = new CancelEcho();
      let sent = 0;
      echo.heard('unknown');
      echo.remember('old', 100, () => sent++);
      mock.timers.tick(1000);
      echo.remember('new', 5000, () => sent++);
      assert.equal(echo.size, 1);
      assert.equal(sent, 0);
    } finally {
      mock.timers.reset();
    }
  });
});
