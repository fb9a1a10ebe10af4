// Trace ids of a run, derived from its uid so every replica, before and after a restart, agrees on them
// without storing anything first: the run's root span and one span per stage, each stage span the
// parent of the trainer's TRACEPARENT.
import { createHash } from 'node:crypto';

export interface RunTraceIds {
  traceId: string;
  rootSpanId: string;
}

const hex = (input: string, chars: number): string => {
  const h = createHash('sha256').update(input).digest('hex').slice(0, chars);
  // All-zero ids are invalid in W3C trace context; a sha256 prefix is never all zeros in practice, but be exact.
  return /^0+$/.test(h) ? `${h.slice(0, -1)}1` : h;
};

export function runTraceIds(runUid: string): RunTraceIds {
  return { traceId: hex(`fslm-run/${runUid}`, 32), rootSpanId: hex(`fslm-run/${runUid}/root`, 16) };
}

export function stageSpanId(runUid: string, stage: string): string {
  return hex(`fslm-run/${runUid}/stage/${stage}`, 16);
}

export const formatTraceparent = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`;
