// Reads what the trainer reports about itself: the progress annotation on its Pod and the JSON
// metrics in its termination message. Both are untrusted input of any size, so only known or
// numeric fields are kept, and the result is bounded before it goes into the run's status.
import type { TrainerProgress } from './types.ts';

/** Longest text read from an annotation or termination message (the kubelet caps messages at 4 KiB). */
export const MAX_REPORT_CHARS = 4096;
/** Most metrics kept per stage. */
export const MAX_METRICS = 32;
const MAX_METRIC_NAME = 63;

const PROGRESS_FIELDS: Record<string, keyof TrainerProgress> = {
  step: 'step',
  total: 'total',
  loss: 'loss',
  eval_loss: 'evalLoss',
  tokens_per_s: 'tokensPerSecond',
  eta_s: 'etaSeconds',
};

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A JSON object of at most MAX_REPORT_CHARS; undefined for anything else. */
export function parseReport(text: string | undefined): Record<string, unknown> | undefined {
  if (!text || text.length > MAX_REPORT_CHARS) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Rounds to 6 significant digits so tiny float noise does not cause a status patch. */
const tidy = (v: number): number => Number(v.toPrecision(6));

/** The `fslm.dev/progress` annotation as status fields; undefined when absent or unreadable. */
export function parseProgress(annotation: string | undefined): TrainerProgress | undefined {
  return progressFromReport(parseReport(annotation));
}

/** parseProgress for an already parsed report. */
export function progressFromReport(raw: unknown): TrainerProgress | undefined {
  if (!isObject(raw)) return undefined;
  const out: TrainerProgress = {};
  for (const [from, to] of Object.entries(PROGRESS_FIELDS)) {
    const v = raw[from];
    if (finite(v)) out[to] = tidy(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Numeric metrics from the trainer's termination message (JSON); nested objects are flattened with dots. */
export function parseMetrics(message: string | undefined): Record<string, number> | undefined {
  return metricsFromReport(parseReport(message?.trim()));
}

/** parseMetrics for an already parsed report (bound its size before parsing, as parseReport does). */
export function metricsFromReport(raw: unknown): Record<string, number> | undefined {
  if (!isObject(raw)) return undefined;
  const out: Record<string, number> = {};
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (Object.keys(out).length >= MAX_METRICS) return;
      const name = `${prefix}${k}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, MAX_METRIC_NAME);
      if (finite(v)) out[name] = tidy(v);
      else if (isObject(v) && depth < 2) walk(v, `${name}.`, depth + 1);
    }
  };
  walk(raw, '', 0);
  return Object.keys(out).length > 0 ? out : undefined;
}
