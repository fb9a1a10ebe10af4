// The whole stack with trust on: nats-server with TLS (client certificates required) and the NKey users
// `fslm nats-config` renders, two stages and the router each with their own NATS identity and mTLS on their
// gRPC doors, `fslm ask` with a client certificate. Misconfigured processes fail with a clear error. Every
// secret (NKey seeds, private keys, and strings planted where a careless error would quote them) is then
// looked for in every output: the processes' logs, nats-server's log, the clients' output, /metrics and the
// spans the processes exported over OTLP.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { nkeys } from 'nats';
import { makeLocalCa, type LocalCa } from '../../services/cli/local-ca.ts';
import { seedFileOf } from '../../services/cli/nats-config.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startLogged, type LoggedProcess } from './support/logged-process.ts';
import { startTrustedNats, type TrustedNats } from './support/trusted-nats.ts';

const execFileP = promisify(execFile);
const PLANTED = `fslm-planted-secret-${process.pid}-${Date.now()}`;

describe('a stack with TLS, NATS identities and permissions', { timeout: 400_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-secured-'));
  const stackFile = new StackBuilder('trust')
    .stage({ name: 'alpha', template: 'Restate: {input}', params: { maxNewTokens: 12, temperature: 0 } })
    .stage({ name: 'beta', template: 'Answer: {stages.alpha}', params: { maxNewTokens: 12, temperature: 0 } })
    .write();
  let nats: TrustedNats;
  let ca: LocalCa;
  let otlp: Server;
  const spans: Buffer[] = [];
  const processes: LoggedProcess[] = [];
  const outputs: Array<{ name: string; text: string }> = [];
  let routerGrpc = '';
  let routerHttp = '';
  const metricsUrls: string[] = [];

  const trustArgs = (identity: string) => [
    '--tls-cert', ca.files('server').certFile, '--tls-key', ca.files('server').keyFile, '--tls-ca', ca.caFile, '--tls-client-auth',
    '--nats-ca', ca.caFile, '--nats-cert', ca.files('client').certFile, '--nats-key', ca.files('client').keyFile,
    '--nats-nkey', seedFileOf(nats.keysDir, identity),
  ];
  const start = (name: string, args: string[]) => {
    const p = startLogged(dir, name, args, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(otlp.address() as { port: number }).port}`, OTEL_BSP_SCHEDULE_DELAY: '200' });
    processes.push(p);
    return p;
  };
  const stage = (name: string, identity: string, extra: string[] = []) => start(`stage-${name}-${processes.length}`, [
    'stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--threads', '1',
    '--nats', nats.url, '--stack', 'trust', '--stage', name, ...trustArgs(identity), ...extra,
  ]);
  /** GET over HTTPS trusting the test CA, with alice's client certificate when `withCert`. */
  const httpsGet = (url: string, withCert: boolean) => new Promise<string>((resolve, reject) => {
    const options = { ca: readFileSync(ca.caFile), ...(withCert ? { cert: readFileSync(ca.files('alice').certFile), key: readFileSync(ca.files('alice').keyFile) } : {}) };
    https.get(url, options, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    }).on('error', reject);
  });
  const ask = async (name: string, args: string[]) => {
    const result = await execFileP(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'ask', 'Why is the sky blue?', '--router', routerGrpc, '--json', ...args], { cwd: REPO_ROOT, timeout: 120_000 })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, text: stdout + stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', text: `${e.stdout}${e.stderr}` }));
    outputs.push({ name, text: result.text });
    return result;
  };

  before(async () => {
    nats = await startTrustedNats(dir, stackFile);
    ca = makeLocalCa(path.join(dir, 'ca'), [{ name: 'server', ips: ['127.0.0.1'], usage: 'server' }, { name: 'alice', usage: 'client' }]);
    otlp = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        spans.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => otlp.listen(0, '127.0.0.1', resolve));
    const ready = await Promise.all([stage('alpha', 'stage.trust.alpha').event('listening'), stage('beta', 'stage.trust.beta').event('listening')]);
    metricsUrls.push(...ready.map((r) => `https://${r.metrics}/metrics`));
    const router = start('router', ['router', '--stack', stackFile, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--nats', nats.url, ...trustArgs('router')]);
    const listening = await router.event('listening');
    routerGrpc = String(listening.grpc);
    routerHttp = String(listening.http);
    metricsUrls.push(`https://${routerHttp}/metrics`);
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await nats?.stop();
    await new Promise((resolve) => otlp?.close(resolve));
  });

  test('fslm ask with a client certificate gets an answer through the secured stack', async () => {
    const { code, stdout, text } = await ask('ask', ['--tls-ca', ca.caFile, '--tls-cert', ca.files('alice').certFile, '--tls-key', ca.files('alice').keyFile]);
    assert.equal(code, 0, text);
    const answer = JSON.parse(stdout) as { stages: Array<{ stage: string }> };
    assert.deepEqual(answer.stages.map((s) => s.stage), ['alpha', 'beta']);
  });

  test('the OpenAI-compatible door serves HTTPS to a client with a certificate and refuses one without', async () => {
    const models = JSON.parse(await httpsGet(`https://${routerHttp}/v1/models`, true)) as { data: Array<{ id: string }> };
    assert.deepEqual(models.data.map((m) => m.id), ['trust']);
    await assert.rejects(httpsGet(`https://${routerHttp}/v1/models`, false), /certificate required|socket hang up|ECONNRESET/i);
    await assert.rejects(fetch(`http://${routerHttp}/v1/models`));
  });

  test('a stage\'s /metrics serves HTTPS with its door\'s certificate, and asks for a client certificate as its door does', async () => {
    const stageMetrics = metricsUrls.filter((url) => url !== `https://${routerHttp}/metrics`);
    assert.equal(stageMetrics.length, 2);
    for (const url of stageMetrics) {
      assert.match(await httpsGet(url, true), /fslm_stage_/);
      await assert.rejects(httpsGet(url, false), /certificate required|socket hang up|ECONNRESET/i);
      await assert.rejects(fetch(url.replace('https:', 'http:')));
    }
  });

  test('fslm ask without a client certificate is refused', async () => {
    const { code, text } = await ask('ask-no-cert', ['--tls-ca', ca.caFile]);
    assert.notEqual(code, 0);
    assert.match(text, /UNAVAILABLE/);
  });

  test('a stage given another stage\'s identity exits with a clear error; so does one with an unknown identity', async () => {
    const wrong = stage('alpha', 'stage.trust.beta');
    assert.equal(await wrong.exited, 1);
    assert.match(wrong.output(), /NATS refused this stage's subscriptions.*Permissions Violation for Subscription to "fslm\.trust\.alpha\.run"/);
    const stranger = path.join(dir, 'stranger.nk');
    writeFileSync(stranger, new TextDecoder().decode((nkeys as { createUser(): { getSeed(): Uint8Array } }).createUser().getSeed()), { mode: 0o600 });
    const unknown = start('stage-unknown', ['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--nats', nats.url,
      '--stack', 'trust', '--stage', 'alpha', '--nats-ca', ca.caFile, '--nats-cert', ca.files('client').certFile, '--nats-key', ca.files('client').keyFile, '--nats-nkey', stranger]);
    assert.notEqual(await unknown.exited, 0);
    assert.match(unknown.output(), /fslm stage: cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: '?Authorization Violation/);
  });

  test('a secret planted in a seed file or a key file is not quoted by the error that refuses it', async () => {
    const seed = path.join(dir, 'planted.nk');
    writeFileSync(seed, `${PLANTED}\n`, { mode: 0o600 });
    const badSeed = start('stage-planted-seed', ['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--nats', nats.url,
      '--stack', 'trust', '--stage', 'alpha', '--nats-ca', ca.caFile, '--nats-nkey', seed]);
    assert.notEqual(await badSeed.exited, 0);
    assert.match(badSeed.output(), /planted\.nk does not hold an NKey user seed/);
    const key = path.join(dir, 'planted.key');
    writeFileSync(key, `-----BEGIN PRIVATE KEY-----\n${Buffer.from(PLANTED).toString('base64')}\n${PLANTED}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
    const badKey = start('router-planted-key', ['router', '--stack', stackFile, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--nats', nats.url,
      '--tls-cert', ca.files('server').certFile, '--tls-key', key]);
    assert.notEqual(await badKey.exited, 0);
    assert.match(badKey.output(), /do not form a usable TLS context/);
  });

  test('no secret appears in any log, error, metric or span', async () => {
    const metrics = await Promise.all(metricsUrls.map(async (url) => ({ name: url, text: url.startsWith('https:') ? await httpsGet(url, true) : await (await fetch(url)).text() })));
    assert.ok(metrics.every((m) => m.text.includes('fslm_')), 'the metrics were read');
    await Promise.all(processes.map((p) => p.stop()));
    assert.ok(spans.length > 0 && spans.some((s) => s.includes('chat trust')), 'the processes exported their spans');
    const seeds = ['router', 'stage.trust.alpha', 'stage.trust.beta'].map((id) => readFileSync(seedFileOf(nats.keysDir, id), 'utf8').trim());
    const keyBodies = ['server', 'client', 'alice', 'nats'].map((n) => readFileSync(ca.files(n).keyFile, 'utf8'))
      .concat(readFileSync(path.join(dir, 'ca', 'ca.key'), 'utf8'))
      .map((pem) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
    const secrets = [PLANTED, Buffer.from(PLANTED).toString('base64'), ...seeds, ...keyBodies, ...keyBodies.map((b) => b.slice(0, 24))];
    const everything = [
      ...processes.map((p, i) => ({ name: `process ${i}`, text: p.output() })),
      { name: 'nats-server', text: nats.output() },
      ...outputs, ...metrics,
      ...spans.map((s, i) => ({ name: `OTLP export ${i}`, text: s.toString('latin1') })),
    ];
    assert.ok(everything.every((o) => o.text.length > 0));
    for (const output of everything) {
      for (const secret of secrets) assert.ok(!output.text.includes(secret), `${output.name} holds a secret (${secret.slice(0, 6)}…)`);
    }
  });
});
