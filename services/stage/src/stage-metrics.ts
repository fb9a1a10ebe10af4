// A stage's Prometheus metrics for the requests both its doors serve (attribute `fslm.door`: nats or
// grpc; `fslm.precision`: the weights it serves): latency and time to first token (GenAI server
// metrics), tokens/s, requests in flight and errors by code.
import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { secondsHistogram, tokensPerSecondHistogram } from '../../shared/metrics.ts';
import type { GenerateResult } from './types.ts';

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
