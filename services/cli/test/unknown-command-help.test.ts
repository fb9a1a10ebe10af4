// An unknown command is refused (exit 2, naming it) even when it is followed by --help or -h, or asked
// for through `fslm help`: the general help with exit 0 would tell a script or a user that it exists.
// Through the real bin/fslm.js.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runFslm } from './support/run-fslm.ts';

describe('an unknown fslm command asked for its help', { timeout: 120_000 }, () => {
  test('fslm NAME --help, fslm NAME -h and fslm help NAME exit 2 naming NAME', async () => {
    for (const argv of [['evaluate', '--help'], ['serve', '-h'], ['--parent-pid', String(process.pid), 'serve', '--help'], ['help', 'serve']]) {
      const res = await runFslm(argv);
      assert.equal(res.code, 2, `fslm ${argv.join(' ')}: ${res.stdout}`);
      assert.match(res.stderr, /^fslm: unknown command '(evaluate|serve)'\n\(see fslm --help\)/, `fslm ${argv.join(' ')}`);
      assert.doesNotMatch(res.stdout, /Usage:/, 'no usage on stdout');
    }
  });
});
