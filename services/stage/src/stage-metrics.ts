// A stage's Prometheus metrics for the requests both its doors serve (attribute `fslm.door`: nats or
// grpc; `fslm.precision`: the weights it serves): latency and time to first token (GenAI server
// metrics), tokens/s, requests in flight and errors by code; and what the engine and the NATS worker hold right now, read at each scrape
// (engine requests by state, admitted work, KV-cache rows and positions, NATS jobs by state), so
// that a request's end can be seen to leave nothing running.
import type { Counter, Histogram, Meter, ObservableCounter, ObservableGauge, UpDownCounter } from '@opentelemetry/api';
import { ErrorCode } from '../../shared/errors.ts';
import { secondsHistogram, tokensPerSecondHistogram } from '../../shared/metrics.ts';
import type { WorkerJobs } from './nats-worker.ts';
import type { EngineStats, GenerateResult } from './types.ts';

export type StageDoor = 'nats' | 'grpc';

export class StageMetrics {
  private readonly duration: Histogram;
  private readonly ttft: Histogram;
  private readonly perToken: Histogram;
  private readonly tokensPerSecond: Histogram;
  private readonly outputTokens: Counter;
  private readonly inFlight: UpDownCounter;
  private readonly errors: Counter;

  constructor(meter: Meter, private readonly stage: string, private readonly precision = 'fp32') {
    const seconds = (name: string, description: string) => secondsHistogram(meter, name, description);
    this.duration = seconds('gen_ai.server.request.duration', 'Stage request latency, arrival to result');
    this.ttft = seconds('gen_ai.server.time_to_first_token', 'Arrival to the first generated token');
    this.perToken = seconds('gen_ai.server.time_per_output_token', 'Decode time per output token after the first');
    this.tokensPerSecond = tokensPerSecondHistogram(meter, 'fslm.stage.tokens_per_second', 'Output tokens per second of each request');
    this.outputTokens = meter.createCounter('fslm.stage.output_tokens', { unit: '{token}', description: 'Tokens generated' });
    this.inFlight = meter.createUpDownCounter('fslm.stage.requests.in_flight', { unit: '{request}', description: 'Requests held by this replica' });
    this.errors = meter.createCounter('fslm.stage.errors', { unit: '{error}', description: 'Failed requests by error code' });
    // Every series is exported from the start (at 0): increase() counts a stage's first error of each code
    // too, and a replica that has served nothing reads 0 in flight, not "no such series".
    for (const door of ['nats', 'grpc'] as const) {
      for (const code of Object.values(ErrorCode)) this.errors.add(0, { ...this.attributes(door), code });
      this.inFlight.add(0, this.attributes(door));
      this.outputTokens.add(0, this.attributes(door));
    }
  }

  /**
   * Gauges read from the engine at each scrape: fslm.stage.engine.requests{state=active|queued|prefilling|scoring|handoff_open},
   * fslm.stage.engine.admitted, fslm.stage.engine.kv_rows, fslm.stage.engine.kv_positions, and the
   * counter fslm.stage.engine.runs{kind=decode|prefill|score}. Nothing is
   * reported while the engine cannot answer (it has failed).
   */
  observeEngine(meter: Meter, stats: () => Promise<EngineStats>): void {
    const gauge = (name: string, unit: string, description: string) => meter.createObservableGauge(name, { unit, description });
    const requests = gauge('fslm.stage.engine.requests', '{request}', 'Work the engine holds, by state (hand-off prompts not started included)');
    const admitted = gauge('fslm.stage.engine.admitted', '{request}', 'Work counted by admission control (at most max batch + max queue)');
    const kvRows = gauge('fslm.stage.engine.kv_rows', '{row}', 'KV-cache rows held (decode batch, prefills, score requests, hand-off prompts)');
    const kvPositions = gauge('fslm.stage.engine.kv_positions', '{position}', 'Positions held in those KV-cache rows');
    const runs = meter.createObservableCounter('fslm.stage.engine.runs', { unit: '{run}', description: 'Model runs of the engine by kind: decode steps, prefill chunks and score runs' });
    const all: Array<ObservableGauge | ObservableCounter> = [requests, admitted, kvRows, kvPositions, runs];
    meter.addBatchObservableCallback(async (result) => {
      let s: EngineStats;
      try {
        s = await stats();
      } catch {
        return;
      }
      const at = { 'fslm.stage': this.stage };
      for (const [state, value] of [['active', s.active], ['queued', s.queued], ['prefilling', s.prefilling], ['scoring', s.scoring], ['handoff_open', s.openPrompts]] as const) {
        result.observe(requests, value, { ...at, state });
      }
      result.observe(admitted, s.admitted, at);
      result.observe(kvRows, s.kvRows, at);
      result.observe(kvPositions, s.kvPositions, at);
      result.observe(runs, s.decodeSteps, { ...at, kind: 'decode' });
      result.observe(runs, s.prefillRuns, { ...at, kind: 'prefill' });
      result.observe(runs, s.scoreRuns, { ...at, kind: 'score' });
    }, all);
  }

  /** Gauge fslm.stage.nats.jobs{state=running|awaiting_start}: the jobs the NATS worker holds. */
  observeJobs(meter: Meter, jobs: () => WorkerJobs): void {
    meter.createObservableGauge('fslm.stage.nats.jobs', { unit: '{request}', description: 'Requests held by the NATS worker, by state' }).addCallback((result) => {
      const held = jobs();
      result.observe(held.running, { 'fslm.stage': this.stage, state: 'running' });
      result.observe(held.awaitingStart, { 'fslm.stage': this.stage, state: 'awaiting_start' });
    });
  }

  private attributes(door: StageDoor) {
    return { 'fslm.stage': this.stage, 'fslm.door': door, 'fslm.precision': this.precision };
  }

  started(door: StageDoor): void {
    this.inFlight.add(1, this.attributes(door));
  }

  finished(door: StageDoor, result: GenerateResult | null, errorCode: string | null): void {
    const attrs = this.attributes(door);
    this.inFlight.add(-1, attrs);
    if (errorCode) this.errors.add(1, { ...attrs, code: errorCode });
    if (!result) return;
    const t = result.timings;
    this.duration.record(t.totalMs / 1000, { ...attrs, finish_reason: result.finishReason });
    this.outputTokens.add(result.completionTokens, attrs);
    if (result.completionTokens > 0) {
      this.ttft.record(t.firstTokenMs / 1000, attrs);
      if (t.totalMs > 0) this.tokensPerSecond.record((result.completionTokens * 1000) / t.totalMs, attrs);
    }
    if (result.completionTokens > 1) this.perToken.record(t.decodeMs / 1000 / (result.completionTokens - 1), attrs);
  }

  /** A message refused before any work (malformed, expired, duplicate). */
  refused(door: StageDoor, errorCode: string): void {
    this.errors.add(1, { ...this.attributes(door), code: errorCode });
  }
}
