// A stage process whose engine thread dies stops looking alive: calls in flight settle with UNAVAILABLE,
// health turns NOT_SERVING, heartbeats stop, it takes no more NATS work and exits non-zero. A stage
// whose NATS server is gone still stops on SIGTERM. Real nats-server, real `fslm stage` processes on the
// tiny model; the engine thread is killed through the stage's test-only fault injection
// (FSLM_STAGE_FAULT_INJECTION + SIGUSR2), as a crash of onnxruntime or of the thread would kill it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { connect } from 'nats';
import { spawnNatsServer, type Child } from '../../services/cli/up-processes.ts';
import { subjects } from '../../services/shared/bus-codec.ts';
import { ErrorCode } from '../../services/shared/errors.ts';
import type { GenerateResponse__Output } from '../../services/shared/generated/fslm/v1/GenerateResponse.ts';
import type { ProtoGrpcType } from '../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../services/shared/proto.ts';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { openRun } from './support/stage-bus.ts';

const require = createRequire(import.meta.url);
const SENTINEL = '\u0000fslm-handoff\u0000';
const EXIT_BOUND_MS = 30_000;

/** Resolves with the exit of `stage`, failing the test if it has not exited within EXIT_BOUND_MS. */
async function exitOf(stage: FslmProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the stage did not exit within ${EXIT_BOUND_MS} ms`)), EXIT_BOUND_MS)));
  try {
    return await Promise.race([stage.exited, bound]);
  } finally {
    clearTimeout(timer);
  }
}

async function startStage(natsUrl: string, stageName: string, env: Record<string, string> = {}): Promise<FslmProcess> {
  return startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--nats', natsUrl, '--stack', 'life',
    '--stage', stageName, '--replica', `${stageName}-1`, '--threads', '1', '--metrics', '127.0.0.1:0'], { env });
}

const run = (content: string, maxNewTokens: number, requestId: string, handoff = false) => ({
  request: {
    messages: [{ role: 'user', content: handoff ? `${content} ${SENTINEL}` : content }],
    params: { max_new_tokens: maxNewTokens, temperature: 0 }, request_id: requestId,
  },
  stack: 'life', attempt: 1, heartbeat_ms: 100, handoff_sentinel: handoff ? SENTINEL : '',
});

describe('a stage whose engine thread dies, or whose NATS server is gone', { timeout: 300_000 }, () => {
  const started: Array<FslmProcess | Child> = [];
  after(async () => {
    for (const p of started.reverse()) await p.stop();
  });

  for (const fault of ['engine-thread-exit', 'engine-thread-throw'] as const) {
    test(`${fault}: calls in flight fail UNAVAILABLE, health NOT_SERVING, heartbeats stop, no more NATS work, exit 1`, async () => {
      const natsServer = spawnNatsServer();
      started.push(natsServer);
      const url = String((await natsServer.ready).url);
      const stage = await startStage(url, 'dies', { FSLM_STAGE_FAULT_INJECTION: fault });
      started.push(stage);
      const nc = await connect({ servers: url });
      const prefix = subjects.prefix('life', 'dies');
      const address = String(stage.ready.grpc);
      // Health: a Watch stream sees the change as it happens.
      const healthProto = grpc.loadPackageDefinition(protoLoader.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'), { enums: String })) as any; // untyped generated health client
      const health = new healthProto.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
      const statuses: string[] = [];
      let notServing!: () => void;
      const sawNotServing = new Promise<void>((resolve) => (notServing = resolve));
      const watch = health.Watch({ service: 'fslm.v1.StageService' });
      watch.on('data', (reply: { status: string }) => {
        statuses.push(reply.status);
        if (reply.status === 'NOT_SERVING') notServing();
      });
      watch.on('error', () => undefined);
      // A gRPC call, a NATS run and a hand-off waiting for its start, all in flight.
      const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
      const client = new proto.fslm.v1.StageService(address, grpc.credentials.createInsecure());
      let firstDelta!: () => void;
      const generating = new Promise<void>((resolve) => (firstDelta = resolve));
      const grpcOutcome = new Promise<grpc.ServiceError | null>((resolve) => {
        const call = client.Generate({ prompt: 'Go on and on', params: { max_new_tokens: 2000, temperature: 0 } });
        call.on('data', (_r: GenerateResponse__Output) => firstDelta());
        call.on('error', resolve);
        call.on('end', () => resolve(null));
      });
      const natsRun = openRun(nc, prefix, run('Write forever', 2000, `${fault}-run`));
      const handoff = openRun(nc, prefix, run('Earlier text:', 8, `${fault}-handoff`, true));
      await Promise.all([generating, natsRun.next((e) => e.event === 'delta', 'a delta'), handoff.next((e) => e.event === 'accepted', 'accepted')]);

      stage.child.kill('SIGUSR2');
      const grpcError = await grpcOutcome;
      assert.equal(grpcError?.code, grpc.status.UNAVAILABLE, `gRPC: ${grpcError?.message}`);
      assert.match(grpcError!.details, /engine thread/);
      for (const conversation of [natsRun, handoff]) {
        const { error } = await conversation.end(30_000);
        assert.equal(error?.code, ErrorCode.Unavailable, `${conversation.requestId}: ${error?.message}`);
      }
      await sawNotServing;
      const heartbeatsAtError = [natsRun, handoff].map((c) => c.events.filter((e) => e.event === 'heartbeat').length);
      const stopping = await stage.waitForEvent((e) => e.event === 'stopping', 30_000);
      assert.equal(stopping.reason, 'engine-failed');
      assert.equal(stopping.code, ErrorCode.Unavailable);
      if (fault === 'engine-thread-throw') assert.match(String(stopping.message), /fault injection: the engine thread throws/);
      // No replica takes NATS work any more: a run now finds no responders.
      const late = openRun(nc, prefix, run('Anyone there?', 4, `${fault}-late`));
      assert.equal((await late.end(30_000)).error?.code, ErrorCode.Unavailable);
      late.close();
      assert.equal((await exitOf(stage)).code, 1, 'the stage exits non-zero');
      assert.deepEqual([natsRun, handoff].map((c) => c.events.filter((e) => e.event === 'heartbeat').length), heartbeatsAtError, 'no heartbeat after the error');
      assert.deepEqual(statuses.slice(0, 1), ['SERVING']);
      natsRun.close();
      handoff.close();
      watch.cancel();
      health.close();
      client.close();
      await nc.close();
      await natsServer.stop();
    });
  }

  test('SIGTERM stops a stage whose NATS server is gone, with its jobs ended', async () => {
    const natsServer = spawnNatsServer();
    started.push(natsServer);
    const url = String((await natsServer.ready).url);
    const stage = await startStage(url, 'orphan');
    started.push(stage);
    const nc = await connect({ servers: url, maxReconnectAttempts: 0 });
    const job = openRun(nc, subjects.prefix('life', 'orphan'), run('Write forever', 2000, 'orphaned-run'));
    await job.next((e) => e.event === 'delta', 'a delta');
    natsServer.child.kill('SIGKILL');
    await stage.waitForEvent((e) => e.event === 'nats-disconnected', 30_000);
    const ended = await stage.waitForEvent((e) => e.event === 'request' && e.request_id === 'orphaned-run', 30_000);
    assert.equal(ended.outcome, ErrorCode.Unavailable, 'the job ended when the connection went');
    stage.child.kill('SIGTERM');
    assert.deepEqual(await exitOf(stage), { code: 0, signal: null }, 'a clean exit after SIGTERM');
    const stopped = await stage.waitForEvent((e) => e.event === 'stopped', 1000);
    assert.equal(stopped.code, 0);
    job.close();
    await nc.close().catch(() => undefined);
  });

  test('a stage started with --parent-pid stops, within its bound, when its parent is killed', async () => {
    // bash is the stage's parent; SIGKILL gives it no chance to stop its child itself.
    const stageArgs = ['--parent-pid', '$$', 'stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--threads', '1'];
    const parent = spawn('bash', ['-c', `${JSON.stringify(process.execPath)} ${path.join(REPO_ROOT, 'bin/fslm.js')} ${stageArgs.join(' ')} & wait`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    // The pipe closes when its last writer, the stage, has exited.
    let gone = false;
    const closed = new Promise<void>((resolve) => parent.stdout!.on('close', () => {
      gone = true;
      resolve();
    }));
    createInterface({ input: parent.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as Record<string, unknown>;
      lines.push(event);
      if (event.event === 'listening') listening();
    });
    let stagePid: number | null = null;
    try {
      await Promise.race([ready, closed.then(() => Promise.reject(new Error('the stage exited before it was ready')))]);
      stagePid = Number(execFileSync('pgrep', ['-P', String(parent.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
      parent.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the stage outlived its parent')), EXIT_BOUND_MS)))]);
      clearTimeout(timer);
      assert.deepEqual(lines.filter((e) => e.event === 'stopping').map((e) => e.signal), ['SIGTERM'], 'the parent\'s death became a SIGTERM');
      assert.ok(lines.some((e) => e.event === 'stopped'), 'the stage shut down in order');
    } finally {
      parent.kill('SIGKILL');
      // If the stage outlived the test's bound, stop it here (by its pid, found while its parent lived).
      if (stagePid && !gone) {
        try {
          process.kill(stagePid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
});
