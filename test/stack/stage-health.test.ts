// A stage reports grpc.health.v1 SERVING only once it can take work: its model loaded and verified and,
// with --nats, its subscriptions confirmed by the NATS server; while its NATS connection is down it
// reports NOT_SERVING, and SERVING again once it has reconnected and resubscribed. Real nats-server
// (with its HTTP monitor: /subsz lists the subscriptions it holds) and a real `fslm stage` on the tiny
// model. The order is made observable rather than timed: the NATS server is frozen (SIGSTOP) before the
// stage starts, so the stage's gRPC door is up while its NATS connect cannot finish, and health must say
// NOT_SERVING then; it says SERVING only after the server is thawed and holds the subscriptions.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { connect } from 'nats';
import { spawnChild, type Child } from '../../services/cli/up-processes.ts';
import { busCodec, subjects } from '../../services/shared/bus-codec.ts';
import { testModels } from '../support/models.ts';
import { freePorts } from '../support/ports.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { waitFor, within } from '../support/wait.ts';

const require = createRequire(import.meta.url);
const SERVICE = 'fslm.v1.StageService';
const STACK = 'health';
const STAGE = 'one';
const PREFIX = subjects.prefix(STACK, STAGE);
const BOUND_MS = 30_000;

/** nats-server on fixed loopback ports (so a restart is the same server to the client), with its HTTP monitor. */
function startNatsServer(port: number, monitorPort: number): Child {
  return spawnChild({
    name: 'nats-server', command: 'nats-server', args: ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
    readyWhen: (line) => (/Server is ready/.test(line) ? { event: 'ready' } : null),
    timeoutMs: 15_000,
  });
}

/** The subjects (with their queue groups) of the subscriptions the NATS server at `monitorPort` holds. */
async function serverSubscriptions(monitorPort: number): Promise<string[]> {
  const body = await (await fetch(`http://127.0.0.1:${monitorPort}/subsz?subs=1&limit=1000`)).json() as {
    subscriptions_list?: Array<{ subject: string; qgroup?: string }>;
  };
  return (body.subscriptions_list ?? []).map((s) => (s.qgroup ? `${s.subject} (${s.qgroup})` : s.subject));
}

/** A health Watch of the stage's service: every status it reports, and a wait for the next one. */
function watchHealth(client: grpc.Client & Record<string, Function>) {
  const statuses: string[] = [];
  const waiters = new Set<() => void>();
  const stream = client.Watch({ service: SERVICE }) as grpc.ClientReadableStream<{ status: string }>;
  stream.on('data', (reply) => {
    statuses.push(reply.status);
    for (const wake of [...waiters]) wake();
  });
  stream.on('error', () => undefined);
  /** Resolves once the Watch has reported `status` as its `index`-th status (0-based). */
  const nth = (index: number, status: string, what: string) => within(new Promise<void>((resolve, reject) => {
    const check = () => {
      if (statuses.length <= index) return;
      waiters.delete(check);
      if (statuses[index] === status) resolve();
      else reject(new Error(`health status ${index} is ${statuses[index]}, expected ${status} (${what}); all: ${statuses.join(', ')}`));
    };
    waiters.add(check);
    check();
  }), { timeoutMs: BOUND_MS, what });
  return { statuses, nth, cancel: () => stream.cancel() };
}

describe('stage health follows what the stage can take', { timeout: 300_000 }, () => {
  const started: Array<Child | FslmProcess> = [];
  const frozen = new Set<Child>();
  after(async () => {
    for (const nats of frozen) nats.child.kill('SIGCONT');
    for (const p of started.reverse()) await p.stop();
  });

  test('NOT_SERVING until the NATS server holds the subscriptions; NOT_SERVING while NATS is down, SERVING once back', async () => {
    const [natsPort, monitorPort, grpcPort] = await freePorts(3);
    let nats = startNatsServer(natsPort, monitorPort);
    started.push(nats);
    await nats.ready;
    // Frozen: it accepts the stage's TCP connection (the kernel does) but never answers it.
    nats.child.kill('SIGSTOP');
    frozen.add(nats);
    const stageStarting = startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', `127.0.0.1:${grpcPort}`,
      '--nats', `nats://127.0.0.1:${natsPort}`, '--stack', STACK, '--stage', STAGE, '--replica', 'one-1', '--threads', '1']);
    stageStarting.catch(() => undefined);

    const healthProto = grpc.loadPackageDefinition(protoLoader.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'), { enums: String })) as any; // untyped generated health client
    // Reconnect quickly while the stage loads its model, so its door is seen soon after it opens.
    const client = new healthProto.grpc.health.v1.Health(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 300,
    });
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 120_000, (error: Error | undefined) => (error ? reject(error) : resolve())));
    const check = (service: string) => new Promise<string>((resolve, reject) =>
      client.Check({ service }, (error: Error | null, reply: { status: string }) => (error ? reject(error) : resolve(reply.status))));
    const watch = watchHealth(client);
    await watch.nth(0, 'NOT_SERVING', 'the first status, while the NATS server cannot answer the stage');
    assert.equal(await check(''), 'NOT_SERVING', 'the whole server says the same');
    assert.equal(await check('liveness'), 'SERVING', 'the process is alive and answers');

    nats.child.kill('SIGCONT');
    frozen.delete(nats);
    await watch.nth(1, 'SERVING', 'SERVING once the stage has subscribed');
    // Subscriptions are never removed while the stage runs: they exist now, so they existed at SERVING.
    const held = await serverSubscriptions(monitorPort);
    for (const subject of [`${subjects.run(PREFIX)} (${PREFIX})`, `${subjects.describe(PREFIX)} (${PREFIX})`]) {
      assert.ok(held.includes(subject), `the NATS server holds ${subject}: ${held.join(', ')}`);
    }
    assert.equal(await check(''), 'SERVING');
    const stage = await stageStarting;
    started.push(stage);
    const nc = await connect({ servers: `nats://127.0.0.1:${natsPort}`, maxReconnectAttempts: 0 });
    const describeReply = busCodec.decodeDescribe((await nc.request(subjects.describe(PREFIX), new Uint8Array(0), { timeout: BOUND_MS })).data);
    assert.equal(describeReply.manifest?.version, stage.ready.version, 'a NATS request is answered by the stage');
    await nc.close();

    // NATS goes away: health turns NOT_SERVING (the stage cannot take the stack's work).
    await nats.stop();
    await watch.nth(2, 'NOT_SERVING', 'NOT_SERVING once the NATS connection is lost');
    assert.equal(await check(''), 'NOT_SERVING');
    assert.equal(await check('liveness'), 'SERVING', 'alive all the same: a liveness probe does not restart it');
    await stage.waitForEvent((e) => e.event === 'nats-disconnected', BOUND_MS);

    // The same server comes back: the stage reconnects, resubscribes and serves again.
    nats = startNatsServer(natsPort, monitorPort);
    started.push(nats);
    await nats.ready;
    await watch.nth(3, 'SERVING', 'SERVING again once reconnected and resubscribed');
    const again = await serverSubscriptions(monitorPort);
    assert.ok(again.includes(`${subjects.run(PREFIX)} (${PREFIX})`), `the restarted server holds the run subscription: ${again.join(', ')}`);
    const nc2 = await connect({ servers: `nats://127.0.0.1:${natsPort}`, maxReconnectAttempts: 0 });
    const reply = await waitFor(async () => (await nc2.request(subjects.describe(PREFIX), new Uint8Array(0), { timeout: 5000 })).data,
      { timeoutMs: BOUND_MS, what: 'a describe answered after the reconnect' });
    assert.equal(busCodec.decodeDescribe(reply).manifest?.version, stage.ready.version);
    await nc2.close();
    assert.deepEqual(watch.statuses, ['NOT_SERVING', 'SERVING', 'NOT_SERVING', 'SERVING'], 'no other status in between');
    assert.deepEqual(stage.events.filter((e) => e.event === 'health').map((e) => e.status), ['SERVING', 'NOT_SERVING', 'SERVING'],
      'the stage logs each change of its health');

    // Stopping: NOT_SERVING before the door closes.
    await stage.stop();
    assert.equal(watch.statuses[4], 'NOT_SERVING', `health on the way out: ${watch.statuses.join(', ')}`);
    watch.cancel();
    client.close();
  });
});
