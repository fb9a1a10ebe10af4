// The stage's settings from the environment (the only place the stage reads process.env).
import { telemetryFromEnv, type TelemetryOptions } from '../../shared/telemetry.ts';

export interface StageEnvironment {
  telemetry: TelemetryOptions;
}

export function readStageEnvironment(env: Record<string, string | undefined> = process.env): StageEnvironment {
  return { telemetry: telemetryFromEnv(env, 'fslm-stage') };
}
