// A client's deadline is honoured however far away it is: more than a Node timer holds (2^31 ms, 24.8
// days) or the 32 bits grpc-js reads a `grpc-timeout` into (49.7 days). On the router's gRPC door, on a
// stage's gRPC door and on a stage's NATS door a request with such a deadline is served, not failed at
// once with DEADLINE_EXCEEDED (nor cut to hours). Real nats-server, `fslm stage` (tiny model) and
// `fslm router` processes, called with grpc-js.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from 'nats';
import { subjects } from '../../services/shared/bus-codec.ts';
import type { GenerateResponse__Output } from '../../services/shared/generated/fslm/v1/GenerateResponse.ts';
import type { StageServiceClient } from '../../services/shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../services/shared/proto.ts';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { run } from './support/grpc-calls.ts';
import { openRun } from './support/stage-bus.ts';
import { StackBuilder } from './support/stack-builder.ts';

const DAY_MS = 86_400_000;
/** Beyond a Node timer (24.8 days), between 2^31 and 2^32 ms, beyond 2^32 ms, and years away. */
const FAR = [25 * DAY_MS, 30 * DAY_MS, 40 * DAY_MS, 60 * DAY_MS, 365 * DAY_MS, 3650 * DAY_MS];
const days = (ms: number) => `${ms / DAY_MS} days`;

describe('far deadlines', { timeout: 300_000 }, () => {
  const stack = new StackBuilder('far').stage({ name: 'only', template: 'Answer: {input}', params: { maxNewTokens: 3, temperature: 0 } });
  let cluster: Cluster;
  let stageClient: StageServiceClient;
  let nc: NatsConnection;

  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
    const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
    stageClient = new proto.fslm.v1.StageService(String(cluster.stages.get('only')![0].ready.grpc), grpc.credentials.createInsecure());
    nc = await connect({ servers: cluster.nats.url });
  }, { timeout: 180_000 });
  after(async () => {
    stageClient?.close();
    await nc?.close();
    await cluster?.stop();
  }, { timeout: 120_000 });

  test('the router\'s gRPC door serves a request whose deadline is weeks or years away', async () => {
    for (const ms of FAR) {
      const response = await run(cluster.client, { input: 'Name a colour.' }, { deadline: new Date(Date.now() + ms) })
        .catch((error: Error) => assert.fail(`a deadline ${days(ms)} away: ${error.message}`));
      assert.equal(response.stages[0].usage?.completion_tokens, 3, days(ms));
    }
  });

  test('a stage\'s gRPC door does too', async () => {
    for (const ms of FAR) {
      const result = await new Promise<GenerateResponse__Output['result']>((resolve, reject) => {
        let last: GenerateResponse__Output['result'] = null;
        const call = stageClient.Generate({ prompt: 'Name a colour.', params: { max_new_tokens: 3 } }, { deadline: new Date(Date.now() + ms) });
        call.on('data', (r: GenerateResponse__Output) => r.result && (last = r.result));
        call.on('error', (error: Error) => reject(new Error(`a deadline ${days(ms)} away: ${error.message}`)));
        call.on('end', () => resolve(last));
      });
      assert.equal(result?.usage?.completion_tokens, 3, days(ms));
    }
  });

  test('a stage\'s NATS door does too', async () => {
    for (const ms of FAR) {
      const conversation = openRun(nc, subjects.prefix('far', 'only'), {
        request: { prompt: 'Name a colour.', params: { max_new_tokens: 3 }, request_id: `far-${ms}` }, stack: 'far', stage: 'only', attempt: 1, heartbeat_ms: 100,
      }, { deadlineMs: Date.now() + ms });
      const { error, result } = await conversation.end(30_000);
      conversation.close();
      assert.equal(error, null, `a deadline ${days(ms)} away: ${error?.message}`);
      assert.equal(result?.usage?.completion_tokens, 3, days(ms));
    }
  });
});
