// A string field that is not valid UTF-8 on the wire is refused with INVALID_ARGUMENT naming the field,
// on the router's and on a stage's gRPC door, never decoded into U+FFFD and served as changed text (as
// protoc's own parsers would refuse it). Raw request bytes are written by hand here, and the project's
// own typed client shows the common way such bytes arise: a JavaScript string with a lone surrogate.
// Real nats-server, `fslm stage` (tiny model) and `fslm router` processes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

/** A protobuf varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  out.push(n);
  return Buffer.from(out);
}
/** A length-delimited field. */
const bytesField = (number: number, payload: Buffer) => Buffer.concat([varint(number * 8 + 2), varint(payload.length), payload]);
/** A varint field. */
const intField = (number: number, value: number) => Buffer.concat([varint(number * 8), varint(value)]);
const text = (s: string) => Buffer.from(s, 'utf8');
const NOT_UTF8 = [Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])];

const identity = (b: Buffer) => b;

describe('strings that are not UTF-8 on the gRPC doors', { timeout: 300_000 }, () => {
  const stack = new StackBuilder('strings').stage({ name: 'only', template: 'Answer: {input}', params: { maxNewTokens: 2, temperature: 0 } });
  let cluster: Cluster;
  let raw: grpc.Client;
  let stageRaw: grpc.Client;

  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
    raw = new grpc.Client(cluster.grpc, grpc.credentials.createInsecure());
    stageRaw = new grpc.Client(String(cluster.stages.get('only')![0].ready.grpc), grpc.credentials.createInsecure());
  }, { timeout: 180_000 });
  after(async () => {
    raw?.close();
    stageRaw?.close();
    await cluster?.stop();
  }, { timeout: 120_000 });

  /** StackService/Run with raw request bytes: the error, or null when it was served. */
  const runRaw = (request: Buffer) => new Promise<grpc.ServiceError | null>((resolve) => {
    raw.makeUnaryRequest('/fslm.v1.StackService/Run', identity, identity, request, (error) => resolve(error ?? null));
  });
  /** StageService/Generate with raw request bytes: the error, or null when it ended normally. */
  const generateRaw = (request: Buffer) => new Promise<grpc.ServiceError | null>((resolve) => {
    const call = stageRaw.makeServerStreamRequest('/fslm.v1.StageService/Generate', identity, identity, request);
    call.on('data', () => undefined);
    call.on('error', (error: grpc.ServiceError) => resolve(error));
    call.on('end', () => resolve(null));
  });

  test('the router refuses a request whose input, stack, params key or stop string is not UTF-8, naming the field', async () => {
    for (const bad of NOT_UTF8) {
      const withBad = (s: string) => Buffer.concat([text(s.slice(0, 3)), bad, text(s.slice(3))]);
      const cases: Array<[Buffer, string]> = [
        [Buffer.concat([bytesField(1, text('strings')), bytesField(2, withBad('Name a colour.'))]), 'input'],
        [Buffer.concat([bytesField(1, withBad('strings')), bytesField(2, text('hi'))]), 'stack'],
        [Buffer.concat([bytesField(1, text('strings')), bytesField(2, text('hi')),
          bytesField(4, Buffer.concat([bytesField(1, withBad('only')), bytesField(2, intField(1, 2))]))]), 'params.key'],
        [Buffer.concat([bytesField(1, text('strings')), bytesField(2, text('hi')),
          bytesField(4, Buffer.concat([bytesField(1, text('only')), bytesField(2, bytesField(7, withBad('stop here')))]))]), 'params.value.stop'],
      ];
      for (const [request, field] of cases) {
        const error = await runRaw(request);
        assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, `${field} with ${bad.toString('hex')}: ${error?.message}`);
        assert.match(error!.details, new RegExp(`'${field.replace(/\./g, '\\.')}'.*not valid UTF-8`));
      }
    }
    assert.equal(await runRaw(Buffer.concat([bytesField(1, text('strings')), bytesField(2, text('Name a colour. ✓'))])), null, 'valid UTF-8 is served');
  });

  test('the project\'s own client sending a lone surrogate is refused, not served as U+FFFD', async () => {
    const error = await run(cluster.client, { input: 'Name a colour \ud800.' }).then(() => null, (e: unknown) => e);
    assert.equal(grpcCode(error), 'INVALID_ARGUMENT');
    assert.match((error as Error).message, /'input'.*not valid UTF-8/);
  });

  test('a stage refuses a prompt, message or stop string that is not UTF-8, naming the field', async () => {
    const params = bytesField(3, intField(1, 2));
    for (const bad of NOT_UTF8) {
      const cases: Array<[Buffer, string]> = [
        [Buffer.concat([bytesField(1, Buffer.concat([text('hi '), bad])), params]), 'prompt'],
        [Buffer.concat([bytesField(2, Buffer.concat([bytesField(1, text('user')), bytesField(2, Buffer.concat([text('hi '), bad]))])), params]), 'messages.content'],
        [Buffer.concat([bytesField(1, text('hi')), bytesField(3, Buffer.concat([intField(1, 2), bytesField(7, bad)]))]), 'params.stop'],
      ];
      for (const [request, field] of cases) {
        const error = await generateRaw(request);
        assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, `${field} with ${bad.toString('hex')}: ${error?.message}`);
        assert.match(error!.details, new RegExp(`'${field.replace(/\./g, '\\.')}'.*not valid UTF-8`));
      }
    }
    assert.equal(await generateRaw(Buffer.concat([bytesField(1, text('Name a colour. ✓')), params])), null, 'valid UTF-8 is served');
  });
});
