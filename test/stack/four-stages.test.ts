// Acceptance: a 4-stage stack (tiny model) over a real nats-server with real stage processes answers
// through Run, RunStream and the OpenAI endpoint (the real OpenAI client), with every stage's text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import OpenAI from 'openai';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { run, runStream } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';
import { reflectedServices } from '../support/grpc-reflection.ts';

const stack = StackBuilder.fourRoles('tiny4');
const STAGES = stack.stageNames;
let cluster: Cluster;
let versions: Map<string, string>;

describe('four stages', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
    versions = new Map([...cluster.stages].map(([name, [p]]) => [name, String(p.ready.version)]));
  }, { timeout: 300_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  test('Run on the tiny 4-stage stack returns every stage text, its model version and timings', async () => {
    const response = await run(cluster.client, { stack: 'tiny4', input: 'Why is the sky blue?' });
    assert.deepEqual(response.stages.map((s) => s.stage), STAGES);
    for (const s of response.stages) {
      assert.ok(s.text.length > 0, `stage ${s.stage} has text`);
      assert.equal(s.model_version, versions.get(s.stage));
      assert.ok((s.usage?.completion_tokens ?? 0) > 0);
      assert.ok((s.timings?.total_ms ?? 0) > 0);
      assert.equal(s.attempts, 1);
    }
    assert.equal(response.text, response.stages[3].text);
    assert.match(response.trace_id, /^[0-9a-f]{32}$/);
    assert.ok(response.stages.slice(1).every((s) => s.streamed_handoff), 'stages 2-4 were fed by the streamed hand-off');
  });

  test('RunStream on the tiny 4-stage stack streams started, deltas and finished per stage, then the final response', async () => {
    const { events, error } = await runStream(cluster.client, { stack: 'tiny4', input: 'Name three rivers.' });
    assert.equal(error, null);
    const final = events.at(-1)?.final;
    assert.ok(final, 'the last event is the final response');
    for (const [index, name] of STAGES.entries()) {
      const started = events.findIndex((e) => e.stage_started?.stage === name);
      const finished = events.findIndex((e) => e.stage_finished?.output?.stage === name);
      assert.ok(started >= 0 && finished > started, `${name}: started before finished`);
      const streamed = events.filter((e) => e.stage_delta?.stage === name).map((e) => e.stage_delta!.delta!.text).join('');
      assert.equal(streamed, events[finished].stage_finished!.output!.text, `${name}: deltas add up to the stage text`);
      assert.equal(final.stages[index].text, streamed);
      assert.equal(events[started].stage_started!.model_version, versions.get(name));
    }
  });

  test('the OpenAI client gets the final text and every intermediate text in the fslm extension', async () => {
    const openai = new OpenAI({ baseURL: `http://${cluster.http}/v1`, apiKey: 'not-needed', maxRetries: 0 });
    const models = await openai.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['tiny4']);
    const completion = await openai.chat.completions.create({ model: 'tiny4', messages: [{ role: 'user', content: 'What is a noun?' }] });
    const fslm = (completion as unknown as { fslm: { stages: Array<{ stage: string; text: string }> } }).fslm;
    assert.deepEqual(fslm.stages.map((s) => s.stage), STAGES);
    assert.ok(fslm.stages.every((s) => s.text.length > 0));
    assert.equal(completion.choices[0].message.content, fslm.stages[3].text);
    assert.ok((completion.usage?.completion_tokens ?? 0) > 0);

    const stream = await openai.chat.completions.create({ model: 'tiny4', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'What is a noun?' }] });
    let content = '';
    const intermediate = new Map<string, string>();
    let finalExtension: { stages: Array<{ stage: string; text: string }> } | null = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      const ext = (chunk as unknown as { fslm?: { event: string; stage: string; text: string; stages: Array<{ stage: string; text: string }> } }).fslm;
      if (ext?.event === 'stage_delta') intermediate.set(ext.stage, (intermediate.get(ext.stage) ?? '') + ext.text);
      if (ext?.event === 'final') finalExtension = ext;
    }
    assert.ok(finalExtension);
    assert.equal(content, finalExtension.stages[3].text);
    for (const s of finalExtension.stages) assert.equal(intermediate.get(s.stage), s.text);
    // Greedy stages: the same input gives the same texts with and without streaming.
    assert.deepEqual(finalExtension.stages.map((s) => s.text), fslm.stages.map((s) => s.text));
  });

  test('ListStacks, DescribeStack, health, reflection and /metrics describe the running stack', async () => {
    const list = await new Promise<{ stacks: Array<{ name: string }> }>((resolve, reject) => cluster.client.ListStacks({}, (e, r) => (e ? reject(e) : resolve(r!))));
    assert.deepEqual(list.stacks.map((s) => s.name), ['tiny4']);
    const described = await new Promise<{ stages: Array<{ name: string; subject: string; handoff: boolean }> }>((resolve, reject) => cluster.client.DescribeStack({ stack: 'tiny4' }, (e, r) => (e ? reject(e) : resolve(r!))));
    assert.deepEqual(described.stages.map((s) => s.subject), STAGES.map((n) => `fslm.tiny4.${n}.run`));
    assert.deepEqual(described.stages.map((s) => s.handoff), [false, true, true, true]);
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(cluster.grpc, grpc.credentials.createInsecure()) as unknown as grpc.Client & { check: Function };
    const status = await new Promise<{ status: string }>((resolve, reject) => health.check({ service: 'fslm.v1.StackService' }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r))));
    health.close();
    assert.equal(status.status, 'SERVING');
    const services = await reflectedServices(cluster.grpc);
    assert.deepEqual(services, ['fslm.v1.StackService', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'],
      'reflection names what the router serves (health and reflection included), not the services stack.proto imports');
    const metrics = await (await fetch(`http://${cluster.http}/metrics`)).text();
    for (const name of STAGES) assert.match(metrics, new RegExp(`fslm_router_stage_duration\\w*_count\\{[^}]*fslm_stage="${name}"`));
    const stageMetrics = await (await fetch(`http://${cluster.stages.get('final')![0].ready.metrics}/metrics`)).text();
    assert.match(stageMetrics, /gen_ai_server_time_to_first_token\w*_count\{[^}]*fslm_stage="final"/);
    assert.match(stageMetrics, /fslm_stage_output_tokens\w*\{[^}]*fslm_stage="final"/);
  });
});
