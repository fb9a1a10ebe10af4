// Reads what a running `fslm stage` holds from its own Prometheus metrics (engine requests by state,
// admitted work, KV-cache rows, NATS jobs, requests in flight), so tests can show that nothing is left
// running after a request ends; and a bounded wait on a condition.

export interface StageHolds {
  active: number;
  queued: number;
  prefilling: number;
  handoffOpen: number;
  admitted: number;
  kvRows: number;
  kvPositions: number;
  jobsRunning: number;
  jobsAwaitingStart: number;
  /** Requests in flight on both doors. */
  inFlight: number;
  prefillRuns: number;
  decodeSteps: number;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
export async function scrape(metricsAddress: string): Promise<Sample[]> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** What the stage holds right now, as its own metrics say. Throws if the engine gauges are missing. */
export async function stageHolds(metricsAddress: string): Promise<StageHolds> {
  const samples = await scrape(metricsAddress);
  if (!samples.some((s) => s.name === 'fslm_stage_engine_admitted')) {
    throw new Error(`the stage at ${metricsAddress} reports no fslm_stage_engine_admitted gauge`);
  }
  const requests = (state: string) => total(samples, 'fslm_stage_engine_requests', { state });
  return {
    active: requests('active'),
    queued: requests('queued'),
    prefilling: requests('prefilling'),
    handoffOpen: requests('handoff_open'),
    admitted: total(samples, 'fslm_stage_engine_admitted'),
    kvRows: total(samples, 'fslm_stage_engine_kv_rows'),
    kvPositions: total(samples, 'fslm_stage_engine_kv_positions'),
    jobsRunning: total(samples, 'fslm_stage_nats_jobs', { state: 'running' }),
    jobsAwaitingStart: total(samples, 'fslm_stage_nats_jobs', { state: 'awaiting_start' }),
    inFlight: total(samples, 'fslm_stage_requests_in_flight'),
    prefillRuns: total(samples, 'fslm_stage_engine_runs_total', { kind: 'prefill' }),
    decodeSteps: total(samples, 'fslm_stage_engine_runs_total', { kind: 'decode' }),
  };
}

/** The holds that must all be 0 when a stage is idle. */
export function busyParts(holds: StageHolds): string[] {
  const keys = ['active', 'queued', 'prefilling', 'handoffOpen', 'admitted', 'kvRows', 'kvPositions', 'jobsRunning', 'jobsAwaitingStart', 'inFlight'] as const;
  return keys.filter((key) => holds[key] !== 0).map((key) => `${key}=${holds[key]}`);
}

/**
 * Checks `condition` every `everyMs` until it returns something other than undefined or false, and
 * returns that; fails with `what` and the last value seen after `timeoutMs`.
 */
export async function waitFor<T>(what: string, condition: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
