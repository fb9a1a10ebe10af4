// NatsBus against a real nats-server: a stage's describe subject answered, unanswered, refused or
// garbled, and a close that is bounded even when the server is gone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { spawnNatsServer, type Child } from '../../cli/up-processes.ts';
import { busCodec, subjects } from '../../shared/bus-codec.ts';
import { errorHeaders } from '../../shared/bus-errors.ts';
import { ErrorCode, errors } from '../../shared/errors.ts';
import { NatsBus } from '../src/bus-nats.ts';
import { testLimits } from './support/in-memory-test-bus.ts';

let nats: Child;
let url: string;
let stage: NatsConnection;
const address = (stageName: string) => ({ stack: 's', stage: stageName, subjectPrefix: `fslm.s.${stageName}` });

describe('NATS bus', { timeout: 60_000 }, () => {
  before(async () => {
    nats = spawnNatsServer();
    url = String((await nats.ready).url);
    stage = await connect({ servers: url });
    // Stand-ins for stage replicas' describe subscriptions (the real ones are exercised in test/stack).
    stage.subscribe(subjects.describe('fslm.s.good'), { callback: (_e, msg) => msg.respond(busCodec.encodeDescribe(testLimits())) });
    stage.subscribe(subjects.describe('fslm.s.silent'), { callback: () => undefined });
    stage.subscribe(subjects.describe('fslm.s.refusing'), { callback: (_e, msg) => msg.respond(new Uint8Array(0), { headers: errorHeaders(errors.internal('engine failed')) }) });
    stage.subscribe(subjects.describe('fslm.s.garbled'), { callback: (_e, msg) => msg.respond(new Uint8Array([0xff, 0xff, 0xff])) });
    await stage.flush();
  }, { timeout: 30_000 });
  after(async () => {
    await stage?.close();
    await nats?.stop();
  });

  test('describe: an answer, no responders, no answer, an error reply and a garbled reply', async () => {
    const bus = new NatsBus(await connect({ servers: url }));
    try {
      assert.equal((await bus.describe(address('good'), 2000)).max_new_tokens_limit, 256);
      await assert.rejects(bus.describe(address('nobody'), 2000), { code: ErrorCode.Unavailable, message: /no replica is listening on fslm\.s\.nobody\.describe/ });
      await assert.rejects(bus.describe(address('silent'), 200), { code: ErrorCode.Unavailable, message: /no replica answered on fslm\.s\.silent\.describe within 200 ms/ });
      await assert.rejects(bus.describe(address('refusing'), 2000), { code: ErrorCode.Unavailable, message: /cannot describe itself: INTERNAL: engine failed/ });
      await assert.rejects(bus.describe(address('garbled'), 2000), { code: ErrorCode.Unavailable, message: /malformed DescribeResponse/ });
    } finally {
      await bus.close();
    }
  });

  test('close is bounded when the server is gone', async () => {
    const server = spawnNatsServer();
    const nc = await connect({ servers: String((await server.ready).url), maxReconnectAttempts: -1 });
    const bus = new NatsBus(nc);
    server.child.kill('SIGKILL');
    await server.exited;
    await bus.close(500);
    assert.equal(nc.isClosed(), true);
  });
});
