// `fslm up --tls`: a local CA, mTLS on the router's and the stages' gRPC doors and NATS with TLS and one
// identity per process; `fslm ask` with the printed client certificate is answered, without it refused,
// and NATS refuses a client without an identity.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { connect } from 'nats';
import { natsConnectionOptions } from '../../services/shared/nats-connect.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';

const run = promisify(execFile);

describe('fslm up --tls', { timeout: 400_000 }, () => {
  const tlsDir = mkdtempSync(path.join(os.tmpdir(), 'fslm-up-tls-'));
  let up: FslmProcess;
  let tls: { ca: string; cert: string; key: string };
  const ask = (args: string[]) => run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'ask', 'Name a color.', '--router', String(up.ready.grpc), '--json', '--timeout', '120', ...args], { cwd: REPO_ROOT, timeout: 150_000 });

  before(async () => {
    const model = testModels('tiny')['tiny-onnx'];
    const stackFile = new StackBuilder('uptls', model)
      .stage({ name: 'first', template: 'Restate: {input}', params: { maxNewTokens: 8, temperature: 0 } })
      .stage({ name: 'second', template: 'Answer: {stages.first}', params: { maxNewTokens: 8, temperature: 0 } })
      .write();
    up = await startFslm(['up', '--tls', '--tls-dir', tlsDir, '--stack', stackFile, '--no-setup', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { readyEvent: 'up', timeoutMs: 240_000 });
    tls = up.ready.tls as typeof tls;
  });
  after(async () => {
    await up?.stop('SIGINT');
  });

  test('prints the client certificate it made, and fslm ask with it is answered', async () => {
    assert.equal(path.dirname(tls.ca), tlsDir);
    const { stdout } = await ask(['--tls-ca', tls.ca, '--tls-cert', tls.cert, '--tls-key', tls.key]);
    assert.deepEqual(JSON.parse(stdout).stages.map((s: { stage: string }) => s.stage), ['first', 'second']);
  });

  test('fslm ask without the client certificate, or without TLS, is refused', async () => {
    await assert.rejects(ask(['--tls-ca', tls.ca]), /UNAVAILABLE/);
    await assert.rejects(ask([]), /UNAVAILABLE/);
  });

  test('its NATS server refuses a client with the certificate but no identity', async () => {
    const url = String(up.ready.nats);
    assert.match(url, /^tls:\/\//);
    await assert.rejects(connect({ ...natsConnectionOptions({ servers: [url], name: 'intruder', tls: { caFile: tls.ca, certFile: tls.cert, keyFile: tls.key } }), reconnect: false }),
      (e: { code?: string }) => e.code === 'AUTHORIZATION_VIOLATION');
  });

  test('Ctrl-C stops it cleanly', async () => {
    assert.equal((await up.stop('SIGINT')).code, 0);
  });
});
