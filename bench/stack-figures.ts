// P1, P6 and P7: the router and NATS around the stage engines, measured side by side in one run.
//   P1  router + NATS overhead per stage hop vs the same engines called in-process (tiny model)
//   P6  stage k last token -> stage k+1 first token, streamed hand-off vs plain (SmolLM2-135M)
//   P7  throughput under concurrent load: one process per stage vs the stages in sequence in one process
//   P13 answer latency of the default stack vs one stage generating the same total number of tokens
import os from 'node:os';
import { connect } from 'nats';
import type { GenerationParams } from '../services/shared/generated/fslm/v1/GenerationParams.ts';
import type { StackDefinition, StackOutcome } from '../services/router/src/types.ts';
import { parseTemplate } from '../services/router/src/template.ts';
import { atLeast, atMost, type Figure } from './figure.ts';
import { median, percentile, round } from './measure.ts';
import { spawnNatsServer } from '../services/cli/up-processes.ts';
import type { Child } from '../services/cli/up-processes.ts';
import { benchTokenizer, loadAverage } from './bench-prompts.ts';
import { connectStage } from './served-stage.ts';
import { everyStage, loadDefaultStack, loadInProcessStages, startRouter, startStageProcesses, type Router } from './stack-harness.ts';

export interface StackBenchOptions {
  quick: boolean;
  tinyDir: string;
  smollmDir: string;
}

const INPUTS = [
  'Why is the sky blue?',
  'How do bees make honey?',
  'What causes the seasons on Earth?',
  'Explain how a bicycle stays upright.',
];

const sumGaps = (o: StackOutcome) => o.stages.slice(1).map((s) => s.handoffGapMs);

/**
 * P1: the same engine instances (ThreadedEngine, as `fslm stage` runs them), called directly vs
 * through the router, a real nats-server and NATS stage workers (all but nats-server in this process,
 * so both paths run the very same engines).
 */
async function overheadPerHop(stack: StackDefinition, natsUrl: string, options: StackBenchOptions, log: (l: string) => void): Promise<Figure> {
  const tokens = 16;
  const rounds = options.quick ? 12 : 40;
  const params = everyStage(stack, { max_new_tokens: tokens });
  log(`P1: ${rounds} rounds, tiny model, ${stack.stages.length} stages x ${tokens} tokens, direct engine calls vs router + NATS + stage workers`);
  const local = await loadInProcessStages(stack, options.tinyDir, 'threaded');
  await local.serve(natsUrl);
  const router = await startRouter(natsUrl, stack);
  try {
    const direct: number[] = [];
    const routed: number[] = [];
    const perHop: number[] = [];
    const engineMs = { direct: [] as number[], routed: [] as number[] };
    let identical = true;
    for (let r = -3; r < rounds; r++) {
      const input = INPUTS[(r + 4) % INPUTS.length];
      const t0 = performance.now();
      const a = await local.direct(input, params);
      const t1 = performance.now();
      const b = await router.run(input, { params, handoff: false });
      const t2 = performance.now();
      identical &&= a.map((x) => x.text).join('\u0000') === b.stages.map((x) => x.text).join('\u0000');
      if (r < 0) continue; // warm-up
      direct.push(t1 - t0);
      routed.push(t2 - t1);
      perHop.push((t2 - t1 - (t1 - t0)) / stack.stages.length);
      engineMs.direct.push(a.reduce((n, x) => n + x.timings.totalMs, 0));
      engineMs.routed.push(b.stages.reduce((n, x) => n + (x.result.timings?.total_ms ?? 0), 0));
    }
    const hop = median(perHop);
    const ratio = median(routed) / median(direct);
    const figure = atMost('P1', 'router + NATS overhead per stage hop, p50, vs the same engines in-process (tiny)', hop, 0.5, 'ms', {
      stages: stack.stages.length, tokens_per_stage: tokens, rounds, direct_ms_p50: round(median(direct)), routed_ms_p50: round(median(routed)),
      whole_stack_ratio: round(ratio), whole_stack_goal: '<= 1.05', per_hop_ms_p90: round(percentile(perHop, 90)), identical_text: identical,
      engine_ms_p50_direct: round(median(engineMs.direct)), engine_ms_p50_routed: round(median(engineMs.routed)),
      nats_round_trip_ms_p50: round(await natsRoundTrip(natsUrl)), load_average_1m: round(os.loadavg()[0], 2),
      setup: 'router StackRunner and one NatsStageWorker per stage in the bench process, over a real nats-server; the workers serve the same ThreadedEngine instances (1 intra-op thread) that the direct path calls in sequence; hand-off off',
    });
    figure.met = figure.met && ratio <= 1.05;
    return figure;
  } finally {
    await router.close();
    await local.close();
  }
}

/** p50 of a bare NATS request/reply between two connections of this process (the transport's floor). */
async function natsRoundTrip(natsUrl: string): Promise<number> {
  const [a, b] = await Promise.all([connect({ servers: natsUrl }), connect({ servers: natsUrl })]);
  b.subscribe('bench.echo', { callback: (_e, m) => m.respond(m.data) });
  await b.flush();
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await a.request('bench.echo', new Uint8Array(256), { timeout: 2000 });
    if (i >= 50) samples.push(performance.now() - t0);
  }
  await Promise.all([a.close(), b.close()]);
  return median(samples);
}

/**
 * The default stack with each template ending in the previous stage's text (the shape the hand-off
 * is built for: only the last word and the chat template's suffix are left when a stage ends).
 */
export function textLastVariant(stack: StackDefinition): StackDefinition {
  const ends: Record<string, string> = {
    keywords: 'Request: {input}\n\nWrite five search keywords for this request, separated by commas. What it asks for: {stages.understand}',
    intermediate: 'Request: {input}\n\nWrite three short facts that answer the request. Keywords: {stages.keywords}',
    final: 'Request: {input}\n\nUsing the facts, answer the request in two or three sentences. Facts: {stages.intermediate}',
  };
  return { ...stack, name: `${stack.name}-text-last`, stages: stack.stages.map((s) => (ends[s.name] ? { ...s, template: parseTemplate(ends[s.name]) } : s)) };
}

interface GapSample {
  ratio: number;
  streamed: number[];
  plain: number[];
  prefillStreamed: number[];
  prefillPlain: number[];
  identical: boolean;
}

async function gaps(router: Router, stack: StackDefinition, rounds: number, params: Record<string, GenerationParams>): Promise<GapSample> {
  const sample: GapSample = { ratio: 0, streamed: [], plain: [], prefillStreamed: [], prefillPlain: [], identical: true };
  await router.run(INPUTS[0], { params, handoff: true });
  for (let r = 0; r < rounds; r++) {
    for (const [i, input] of INPUTS.entries()) {
      const order = (r + i) % 2 === 0 ? [true, false] : [false, true];
      const outcomes: Record<string, StackOutcome> = {};
      for (const handoff of order) outcomes[String(handoff)] = await router.run(input, { params, handoff });
      const s = outcomes.true;
      const p = outcomes.false;
      sample.identical &&= s.stages.every((st, k) => st.text === p.stages[k].text);
      sample.streamed.push(...sumGaps(s));
      sample.plain.push(...sumGaps(p));
      sample.prefillStreamed.push(...s.stages.slice(1).map((st) => st.result.timings?.prefill_ms ?? 0));
      sample.prefillPlain.push(...p.stages.slice(1).map((st) => st.result.timings?.prefill_ms ?? 0));
    }
  }
  sample.ratio = median(sample.streamed) / median(sample.plain);
  return sample;
}

/** P6: gap between stages with the streamed hand-off vs without, on SmolLM2 stage processes. */
async function handoffGap(natsUrl: string, stack: StackDefinition, options: StackBenchOptions, log: (l: string) => void): Promise<Figure> {
  const rounds = options.quick ? 1 : 2;
  log(`P6: ${rounds} round(s) x ${INPUTS.length} inputs, SmolLM2-135M, streamed vs plain hand-off (text-last templates, then the default stack)`);
  const variant = textLastVariant(stack);
  const routers = { variant: await startRouter(natsUrl, variant), shipped: await startRouter(natsUrl, stack) };
  try {
    // The stack's own output lengths (48/32/96/128 tokens); --quick caps them at 48.
    const params = options.quick ? everyStage(stack, { max_new_tokens: 48 }) : {};
    const main = await gaps(routers.variant, variant, rounds, params);
    const shipped = await gaps(routers.shipped, stack, 1, params);
    return atMost('P6', 'stage k last token -> stage k+1 first token, streamed hand-off vs not (SmolLM2-135M)', main.ratio, 0.2, 'x', {
      templates: 'the default stack with each template ending in the previous stage text',
      gap_ms_p50_streamed: round(median(main.streamed)), gap_ms_p50_plain: round(median(main.plain)),
      stage_prefill_ms_p50_streamed: round(median(main.prefillStreamed)), stage_prefill_ms_p50_plain: round(median(main.prefillPlain)),
      gaps_measured: main.streamed.length, identical_greedy_text: main.identical && shipped.identical,
      max_new_tokens_per_stage: options.quick ? 48 : stack.stages.map((s) => s.params.max_new_tokens),
      default_stack_ratio: round(shipped.ratio), default_stack_gap_ms_p50_streamed: round(median(shipped.streamed)),
      default_stack_gap_ms_p50_plain: round(median(shipped.plain)),
      load_average_1m: round(os.loadavg()[0], 2),
      default_stack_note: 'its templates put a one-sentence instruction after the previous text, which is prefilled with the tail',
      setup: 'one `fslm stage --nats` process per stage (1 intra-op thread), router in the bench process; gap on the router clock from stage k result to stage k+1 first delta',
    });
  } finally {
    await routers.variant.close();
    await routers.shipped.close();
  }
}

/**
 * Closed-loop load: `clients` clients, each sending `perClient` requests one after another, started a
 * 1/clients of a request's latency apart so that they sit at different stages (a pipeline) rather
 * than moving through the stages together in one batch.
 */
async function staggeredLoad(clients: number, perClient: number, one: (i: number) => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await one(0);
  const latency = performance.now() - t;
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    await new Promise((resolve) => setTimeout(resolve, (c * latency) / clients));
    for (let k = 0; k < perClient; k++) await one(next++);
  }));
  return performance.now() - start;
}

/** P7: requests/s of one process per stage vs one process running the stages in sequence, same load. */
async function throughput(router: Router, stack: StackDefinition, options: StackBenchOptions, log: (l: string) => void): Promise<Figure> {
  const cores = os.availableParallelism();
  const clients = stack.stages.length;
  const perClient = options.quick ? 2 : 4;
  const tokens = 16;
  // Greedy without the repetition penalty: the engine's in-graph arg-max, so the figure is about the
  // engines, not the JavaScript sampler.
  const params: Record<string, GenerationParams> = everyStage(stack, { max_new_tokens: tokens, repetition_penalty: 1 });
  log(`P7: ${clients} staggered clients x ${perClient} requests, SmolLM2-135M, ${tokens} tokens per stage: stage processes vs one process`);
  const single = await loadInProcessStages(stack, options.smollmDir, 'onnx');
  try {
    const walls = { processes: [] as number[], single: [] as number[] };
    for (let r = 0; r < (options.quick ? 1 : 2); r++) {
      walls.single.push(await staggeredLoad(clients, perClient, (i) => single.direct(INPUTS[i % INPUTS.length], params)));
      walls.processes.push(await staggeredLoad(clients, perClient, (i) => router.run(INPUTS[i % INPUTS.length], { params, handoff: true })));
    }
    const total = clients * perClient;
    const rps = (ms: number[]) => (total * 1000) / median(ms);
    const ratio = rps(walls.processes) / rps(walls.single);
    return atLeast('P7', `throughput, one process per stage vs stages in sequence in one process (${cores} cores, 1 intra-op thread each)`, ratio, round(0.9 * Math.min(cores, stack.stages.length), 2), {
      cores, requests: total, clients, tokens_per_stage: tokens, requests_per_s_processes: round(rps(walls.processes)),
      requests_per_s_single_process: round(rps(walls.single)), wall_ms_processes: walls.processes.map((w) => round(w, 1)), wall_ms_single: walls.single.map((w) => round(w, 1)),
      load_average_1m: round(os.loadavg()[0], 2),
      setup: 'processes: 4 `fslm stage --nats` processes + router in the bench process (its default hand-off policy); single: 4 OnnxEngines on the bench thread, each request runs its stages in sequence; greedy, no repetition penalty',
    });
  } finally {
    await single.close();
  }
}

/**
 * P13: the default stack's answer latency (its own parameters, streamed hand-off) vs the first stage's
 * process generating as many tokens as the four stages did together, from one short prompt.
 */
async function stackVsOneStage(router: Router, stack: StackDefinition, first: Child, options: StackBenchOptions, log: (l: string) => void): Promise<Figure> {
  const inputs = options.quick ? INPUTS.slice(0, 2) : INPUTS;
  log(`P13: ${inputs.length} questions through the default stack, then one stage generating the same number of tokens`);
  const ready = await first.ready;
  const stage = connectStage(String(ready.grpc), first.child.pid!, stack.stages[0].precision);
  const prompt = (await benchTokenizer(options.smollmDir)).prompt(32);
  const ratios: number[] = [];
  const rows: Array<Record<string, number>> = [];
  try {
    for (const input of inputs) {
      const t0 = performance.now();
      const outcome = await router.run(input, { params: {}, handoff: true });
      const stackMs = performance.now() - t0;
      const tokens = outcome.stages.reduce((n, s) => n + (s.result.usage?.completion_tokens ?? 0), 0);
      // Where the stack's time goes, on the stages' own clocks: prefills, decoding, and the rest (hops, hand-offs, queueing).
      const sum = (key: 'prefill_ms' | 'decode_ms' | 'total_ms') => outcome.stages.reduce((n, s) => n + (s.result.timings?.[key] ?? 0), 0);
      const t1 = performance.now();
      const single = await stage.generate(prompt.text, tokens);
      const singleMs = performance.now() - t1;
      // The wire has no ignore-EOS: should the single stage end early, its time is scaled to the same token count (and marked).
      const produced = single.usage?.completion_tokens ?? 0;
      const sameTokensMs = produced > 0 && produced < tokens ? (singleMs * tokens) / produced : singleMs;
      ratios.push(stackMs / sameTokensMs);
      rows.push({
        stack_ms: round(stackMs), single_stage_ms: round(sameTokensMs), tokens, ...(produced < tokens ? { single_stage_stopped_at: produced } : {}),
        stack_prefill_ms: round(sum('prefill_ms')), stack_decode_ms: round(sum('decode_ms')), stack_outside_stages_ms: round(stackMs - sum('total_ms')),
        single_stage_prefill_ms: round(single.timings?.prefill_ms ?? 0), single_stage_decode_ms: round(single.timings?.decode_ms ?? 0),
      });
    }
  } finally {
    await stage.stop();
  }
  return atMost('P13', 'answer latency of the default stack vs one stage generating the same total tokens (SmolLM2-135M)', median(ratios), 1.15, 'x', {
    precision: stack.stages.map((s) => s.precision), answers: rows, single_stage_prompt_tokens: prompt.ids.length,
    setup: 'router in the bench process, one `fslm stage --nats` process per stage (1 intra-op thread), streamed hand-off on; the single stage is the first stage process, called over gRPC',
    load_average_1m: loadAverage(),
  });
}

export async function stackFigures(options: StackBenchOptions, log: (line: string) => void): Promise<Figure[]> {
  const stack = await loadDefaultStack();
  const nats = spawnNatsServer();
  try {
    const natsUrl = String((await nats.ready).url);
    const figures = [await overheadPerHop(stack, natsUrl, options, log)];
    log('starting SmolLM2-135M stage processes');
    const children = await startStageProcesses(stack, options.smollmDir, natsUrl);
    figures.push(await handoffGap(natsUrl, stack, options, log));
    const router = await startRouter(natsUrl, stack);
    try {
      figures.push(await throughput(router, stack, options, log));
      figures.push(await stackVsOneStage(router, stack, children[0], options, log));
    } finally {
      await router.close();
      await Promise.all(children.map((c) => c.stop()));
    }
    return figures;
  } finally {
    await nats.stop();
  }
}
