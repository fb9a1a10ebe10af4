// Histogram boundaries and helpers shared by the router's and the stages' Prometheus metrics.
import type { Histogram, Meter } from '@opentelemetry/api';

/** Latency histogram boundaries, in seconds. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Tokens-per-second histogram boundaries. */
export const TOKENS_PER_SECOND_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** A latency histogram in seconds. */
export function secondsHistogram(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S } });
}

/** A tokens-per-second histogram. */
export function tokensPerSecondHistogram(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, { unit: '{token}/s', description, advice: { explicitBucketBoundaries: TOKENS_PER_SECOND_BUCKETS } });
}
