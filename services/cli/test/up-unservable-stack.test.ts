// `fslm up` refuses a stack that its stages cannot serve, once they have described their limits and
// before it serves anything: a stack asking a stage for more new tokens than the model's context
// allows would otherwise start and refuse every request. It exits 2 naming the problem and stops the
// processes it started. The real bin/fslm.js on the tiny model (context 2048).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { StackBuilder } from '../../../test/stack/support/stack-builder.ts';
import { testModels } from '../../../test/support/models.ts';
import { runFslm } from './support/run-fslm.ts';

/** Pids of running processes whose command line holds `needle` (Linux /proc). */
function processesWith(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('fslm up and a stack its stages cannot serve', { timeout: 600_000 }, () => {
  test('a stage asked for 2048 new tokens of a 2048-position model: exit 2 naming it, nothing left running', async () => {
    testModels('tiny');
    const name = `unservable-${randomBytes(4).toString('hex')}`;
    const stack = new StackBuilder(name, 'tiny-onnx')
      .stage({ name: 'fine', template: '{input}', params: { maxNewTokens: 8 } })
      .stage({ name: 'greedy', template: '{stages.fine}', params: { maxNewTokens: 2048 } })
      .write();
    const res = await runFslm(['up', '--stack', stack, '--no-setup', '--threads', '1', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { timeoutMs: 300_000 });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /the stack cannot serve any request with its stages' limits:\n {2}the stack asks stage greedy for 2048 new tokens, but its replicas allow at most 2047/);
    assert.doesNotMatch(res.stdout, /"event":"up"/, 'it never reported itself up');
    assert.deepEqual(processesWith(name), [], 'no stage process of the stack is left');
  });
});
