// The stage's settings from the environment (the only place the stage reads process.env).
import { telemetryFromEnv, type TelemetryOptions } from '../../shared/telemetry.ts';
import { HANDOFF_MAX_WAIT_MS } from './nats-job.ts';

/** Test-only faults a stage can be told to commit on SIGUSR2 (FSLM_STAGE_FAULT_INJECTION). */
export type StageFault = 'engine-thread-exit' | 'engine-thread-throw';
const FAULTS: readonly StageFault[] = ['engine-thread-exit', 'engine-thread-throw'];

/** How long a stopping stage may take before it exits anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

export interface StageEnvironment {
  telemetry: TelemetryOptions;
  /**
   * FSLM_STAGE_FAULT_INJECTION (tests only): on SIGUSR2 the engine thread exits (`engine-thread-exit`)
   * or throws an uncaught error (`engine-thread-throw`), to show how the stage handles a dead engine.
   */
  faultInjection: StageFault | null;
  /** FSLM_STAGE_HANDOFF_MAX_WAIT_MS: how long a hand-off run without a deadline waits for its start. */
  handoffMaxWaitMs: number;
  /** FSLM_STAGE_SHUTDOWN_TIMEOUT_MS: the bound of a graceful shutdown, after which the process exits anyway. */
  shutdownTimeoutMs: number;
}

function positiveNumber(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** Reads the stage's variables; throws on a value that is set but not valid. */
export function readStageEnvironment(env: Record<string, string | undefined> = process.env): StageEnvironment {
  const fault = env.FSLM_STAGE_FAULT_INJECTION;
  if (fault && !FAULTS.includes(fault as StageFault)) throw new Error(`FSLM_STAGE_FAULT_INJECTION must be one of ${FAULTS.join(', ')}, got ${JSON.stringify(fault)}`);
  return {
    telemetry: telemetryFromEnv(env, 'fslm-stage'),
    faultInjection: fault ? (fault as StageFault) : null,
    handoffMaxWaitMs: positiveNumber(env, 'FSLM_STAGE_HANDOFF_MAX_WAIT_MS', HANDOFF_MAX_WAIT_MS),
    shutdownTimeoutMs: positiveNumber(env, 'FSLM_STAGE_SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS),
  };
}
