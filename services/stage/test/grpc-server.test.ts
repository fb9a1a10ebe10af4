// The stage's gRPC door as a client sees it: a real `fslm stage` process on loopback.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { GenerateRequest } from '../../shared/generated/fslm/v1/GenerateRequest.ts';
import type { GenerateResponse__Output } from '../../shared/generated/fslm/v1/GenerateResponse.ts';
import type { StageServiceClient } from '../../shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../shared/generated/stage.ts';
import { loadGrpcObject } from '../../shared/proto.ts';
import { testModels } from '../../../test/support/models.ts';
import { startFslm, type FslmProcess } from '../../../test/support/processes.ts';
import { reflectedServices } from '../../../test/support/grpc-reflection.ts';
import { busyParts, stageHolds, waitFor } from '../../../test/support/stage-probe.ts';
import type { DescribeResponse__Output } from '../../shared/generated/fslm/v1/DescribeResponse.ts';

const require = createRequire(import.meta.url);
let stage: FslmProcess;
let client: StageServiceClient;
let address: string;
let metricsAddress: string;

describe("the stage's gRPC door", { timeout: 300_000 }, () => {
  before(async () => {
    stage = await startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--max-batch', '1', '--max-queue', '1', '--threads', '1', '--metrics', '127.0.0.1:0']);
    address = stage.ready.grpc as string;
    metricsAddress = stage.ready.metrics as string;
    const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
    client = new proto.fslm.v1.StageService(address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    assert.equal((await stage.stop()).code, 0, 'the stage exits cleanly on SIGTERM');
  });

  interface Collected {
    responses: GenerateResponse__Output[];
    error: grpc.ServiceError | null;
  }

  function generate(request: GenerateRequest, options: grpc.CallOptions = {}, onResponse?: (r: GenerateResponse__Output, call: grpc.ClientReadableStream<GenerateResponse__Output>) => void): Promise<Collected> {
    return new Promise((resolve) => {
      const responses: GenerateResponse__Output[] = [];
      const call = client.Generate(request, options);
      call.on('data', (r: GenerateResponse__Output) => {
        responses.push(r);
        onResponse?.(r, call);
      });
      call.on('error', (error: grpc.ServiceError) => resolve({ responses, error }));
      call.on('end', () => resolve({ responses, error: null }));
    });
  }

  const greedy = (max: number) => ({ max_new_tokens: max, temperature: 0 });

  test('Generate streams deltas then a result with usage and timings', async () => {
    const { responses, error } = await generate({ prompt: 'Hello there', params: greedy(12), request_id: 'req-1' });
    assert.equal(error, null);
    const result = responses.at(-1)!.result!;
    const deltas = responses.slice(0, -1).map((r) => r.delta!);
    assert.equal(deltas.map((d) => d.text).join(''), result.text);
    assert.equal(result.request_id, 'req-1');
    assert.equal(result.usage!.completion_tokens <= 12, true);
    assert.ok(['FINISH_REASON_LENGTH', 'FINISH_REASON_EOS'].includes(result.finish_reason));
    assert.match(result.model_version, /^[0-9a-f]{64}$/);
    assert.ok(result.timings!.total_ms >= result.timings!.decode_ms);
  });

  test('chat messages are rendered with the model chat template', async () => {
    const { responses, error } = await generate({ messages: [{ role: 'user', content: 'Hi!' }], params: greedy(4) });
    assert.equal(error, null);
    assert.ok(responses.at(-1)!.result!.usage!.prompt_tokens > 5);
  });

  function describeStage(): Promise<DescribeResponse__Output> {
    return new Promise((resolve, reject) => client.Describe({}, (e, r) => (e ? reject(e) : resolve(r!))));
  }

  test('Describe returns the manifest and the limits the stage enforces', async () => {
    const description = await describeStage();
    assert.equal(description.precision, 'fp32');
    assert.equal(description.max_batch_size, 1);
    assert.equal(description.max_queue, 1);
    assert.ok(description.manifest!.files['onnx/model.onnx']);
    assert.ok(description.manifest!.decoder!.num_layers >= 1);
    assert.equal(description.manifest!.decoder!.attention, 'grouped');
    assert.equal(description.has_chat_template, true);
    // The tiny model's context is 2048 positions: the default limits are lowered to fit it.
    assert.equal(description.manifest!.decoder!.max_position_embeddings, 2048);
    assert.deepEqual([description.max_prompt_tokens, description.max_new_tokens_limit, description.default_max_new_tokens], [2047, 2047, 256]);
    const { error } = await generate({ prompt: 'x', params: greedy(description.max_new_tokens_limit + 1) });
    assert.match(error?.details ?? 'no error', new RegExp(`between 1 and ${description.max_new_tokens_limit}`));
  });

  test('prompt + max_new_tokens beyond the context is refused with the numbers', async () => {
    const { error } = await generate({ prompt: 'The quick brown fox jumps over the lazy dog. '.repeat(60), params: greedy(2000) });
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error!.details, /\d+ \+ 2000 = \d+ exceeds the model's context of 2048 positions/);
  });

  test('special-token text in messages is content: <|im_end|> x20 counts as plain text, like a lookalike', async () => {
    const usage = async (content: string) => {
      const { responses, error } = await generate({ messages: [{ role: 'user', content }], params: greedy(1) });
      assert.equal(error, null);
      return responses.at(-1)!.result!.usage!.prompt_tokens;
    };
    const template = await usage('x') - 1;
    // 121 and 141 plain-text tokens (the repeated copies merge differently); as control tokens it would be 20.
    assert.equal(await usage('<|im_end|>'.repeat(20)), template + 121);
    assert.equal(await usage('<|im_enx|>'.repeat(20)), template + 141);
  });

  test('bad inputs get INVALID_ARGUMENT and the server keeps serving', async () => {
    const bad: Array<[GenerateRequest, RegExp]> = [
      [{ prompt: '' }, /prompt is empty/],
      [{ prompt: 'x', messages: [{ role: 'user', content: 'y' }] }, /either prompt or messages/],
      [{ prompt: 'x', params: { temperature: -1 } }, /temperature/],
      [{ prompt: 'x', params: { max_new_tokens: 1_000_000 } }, /max_new_tokens/],
      [{ prompt: 'x', params: { top_p: 1.5 } }, /top_p/],
      [{ prompt: 'x', params: { stop: [''] } }, /stop\[0\]/],
      [{ messages: [{ role: 'wizard', content: 'y' }] }, /role/],
      [{ prompt: 'long '.repeat(5000) }, /has \d+ tokens; this stage accepts at most 2047/],
      [{ prompt: 'x', request_id: 'has spaces' }, /request_id/],
    ];
    for (const [request, message] of bad) {
      const { error } = await generate(request);
      assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, `${JSON.stringify(request).slice(0, 80)} gave ${error?.code}`);
      assert.match(error!.details, message);
    }
    const { error } = await generate({ prompt: 'still here', params: greedy(2) });
    assert.equal(error, null);
  });

  test('a deadline gives DEADLINE_EXCEEDED', async () => {
    const { error } = await generate({ prompt: 'Go on and on', params: greedy(2000) }, { deadline: Date.now() + 300 });
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
  });

  test('a full stage answers RESOURCE_EXHAUSTED, and a cancelled call frees its slot', async () => {
    const long = { prompt: 'Go on and on', params: { ...greedy(2000) } };
    let first!: grpc.ClientReadableStream<GenerateResponse__Output>;
    let generating!: () => void;
    const started = new Promise<void>((resolve) => (generating = resolve));
    const firstDone = generate(long, {}, (_r, call) => {
      first = call;
      generating();
    });
    await started;
    const queued = generate({ prompt: 'queued', params: greedy(2) });
    await waitFor('the queued call to be admitted', async () => (await stageHolds(metricsAddress)).admitted === 2);
    const refused = await generate({ prompt: 'refused', params: greedy(2) });
    assert.equal(refused.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    first.cancel();
    assert.equal((await firstDone).error?.code, grpc.status.CANCELLED);
    const queuedResult = await queued;
    assert.equal(queuedResult.error, null, 'the queued call runs once the cancelled one stops');
    assert.deepEqual(busyParts(await stageHolds(metricsAddress)), [], 'the stage holds nothing after the calls end');
  });

  test('grpc.health.v1 reports SERVING', async () => {
    const healthProto = grpc.loadPackageDefinition(protoLoader.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'), { enums: String })) as any;
    const health = new healthProto.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
    const reply = await new Promise<any>((resolve, reject) => health.Check({ service: 'fslm.v1.StageService' }, (e: Error, r: unknown) => (e ? reject(e) : resolve(r))));
    health.close();
    assert.equal(reply.status, 'SERVING');
  });

  test('server reflection lists StageService', async () => {
    const names = await reflectedServices(address);
    assert.ok(names.includes('fslm.v1.StageService'), `services: ${names}`);
  });

  test('/metrics counts the gRPC door\'s requests, tokens and errors by code', async () => {
    const scrape = async () => (await (await fetch(`http://${stage.ready.metrics}/metrics`)).text()).split('\n');
    // The value of the first sample named `name` whose labels match, 0 before the series exists.
    const value = (lines: string[], name: string, labels: RegExp) => {
      const line = lines.find((l) => l.startsWith(`${name}{`) && labels.test(l));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const grpcDoor = /fslm_door="grpc"/;
    const invalid = /fslm_door="grpc".*code="INVALID_ARGUMENT"/;
    const before = await scrape();
    // Both doors' in-flight and token series exist before any request on them (at 0): a replica that has
    // served nothing reads 0 in flight, not "no such series". The NATS door serves nothing in this test.
    for (const name of ['fslm_stage_requests_in_flight', 'fslm_stage_output_tokens_total']) {
      assert.ok(before.some((l) => l.startsWith(`${name}{`) && l.includes('fslm_door="nats"') && l.endsWith(' 0')), `${name} for the NATS door at 0`);
    }
    const { responses, error } = await generate({ prompt: 'Count me', params: greedy(3) });
    assert.equal(error, null);
    assert.equal((await generate({ prompt: '', params: greedy(3) })).error?.code, grpc.status.INVALID_ARGUMENT);
    const after = await scrape();
    const delta = (name: string, labels: RegExp) => value(after, name, labels) - value(before, name, labels);
    const finished = /fslm_door="grpc".*finish_reason="length"/;
    assert.equal(delta('gen_ai_server_request_duration_count', finished), 1, 'the answered request is counted once');
    assert.equal(delta('fslm_stage_output_tokens_total', grpcDoor), responses.at(-1)!.result!.usage!.completion_tokens);
    assert.equal(delta('fslm_stage_errors_total', invalid), 1, 'the refused request is counted by its code');
    assert.equal(value(after, 'fslm_stage_requests_in_flight', grpcDoor), 0);
    assert.ok(after.some((l) => l.startsWith('gen_ai_server_request_duration_count{') && /fslm_stage="[^"]+"/.test(l)), 'a stage served without NATS is named after its model');
  });
});
