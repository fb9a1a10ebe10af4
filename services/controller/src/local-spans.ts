// The spans of a finished local run, exported once at its end when OpenTelemetry is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): the same tree the operator
// exports, so the trainer spans that joined each stage's TRACEPARENT hang under their stage.
import { telemetryFromEnv } from '../../shared/telemetry.ts';
import { runSpan, stageSpan, type SpanRecord } from './run-spans.ts';
import { TracerSpanSink } from './span-sink.ts';
import { startTelemetry } from './telemetry.ts';
import { runTraceIds } from './trace-context.ts';
import type { StackTrainingRun } from './types.ts';

export const LOCAL_SERVICE_NAME = 'fslm-train';

export function localRunSpans(run: StackTrainingRun, now: Date): SpanRecord[] {
  const status = run.status;
  if (!status) return [];
  const ids = runTraceIds(run.metadata.uid);
  const stages = (status.stages ?? []).map((s) => stageSpan(s, ids)).filter((s): s is SpanRecord => s !== undefined);
  return [...stages, runSpan(run, status, ids, now)];
}

/** Exports the run's spans when the environment names an OTLP endpoint; resolves with how many. */
export async function exportLocalRunSpans(run: StackTrainingRun, env: NodeJS.ProcessEnv): Promise<number> {
  const { otlpTracesEndpoint, serviceName } = telemetryFromEnv(env, LOCAL_SERVICE_NAME);
  if (!otlpTracesEndpoint) return 0;
  const spans = localRunSpans(run, new Date());
  const telemetry = await startTelemetry({ otlpUrl: otlpTracesEndpoint, serviceName, identity: run.metadata.name });
  new TracerSpanSink(telemetry.tracer, telemetry.ids).export(spans);
  await telemetry.shutdown();
  return spans.length;
}
