// The router's settings from the environment (the only place the router reads process.env); flags
// on the command line override them.
import { telemetryFromEnv, type TelemetryOptions } from '../../shared/telemetry.ts';
import {
  DEFAULT_HANDOFF_MAX_IN_FLIGHT, DEFAULT_HEARTBEAT_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_IN_FLIGHT,
} from './defaults.ts';

export interface RouterEnvironment {
  /** FSLM_ROUTER_MAX_IN_FLIGHT */
  maxInFlight: number;
  /** FSLM_ROUTER_HEARTBEAT_MS: the heartbeat interval asked of stage replicas. */
  heartbeatMs: number;
  /** FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: silence after which a replica is lost. */
  heartbeatTimeoutMs: number;
  /** FSLM_ROUTER_MAX_ATTEMPTS: tries per stage. */
  maxAttempts: number;
  /** FSLM_ROUTER_HANDOFF=0 turns the streamed hand-off off by default. */
  handoff: boolean;
  /** FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT: the hand-off is used while at most this many requests run. */
  handoffMaxInFlight: number;
  telemetry: TelemetryOptions;
}

/** A positive integer, or an error that names where it came from (a variable or a flag). */
export function parsePositiveInt(raw: string, name: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function positive(env: Record<string, string | undefined>, key: string, fallback: number): number {
  const raw = env[key];
  return raw === undefined || raw === '' ? fallback : parsePositiveInt(raw, key);
}

export function readRouterEnvironment(env: Record<string, string | undefined> = process.env): RouterEnvironment {
  return {
    maxInFlight: positive(env, 'FSLM_ROUTER_MAX_IN_FLIGHT', DEFAULT_MAX_IN_FLIGHT),
    heartbeatMs: positive(env, 'FSLM_ROUTER_HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS),
    heartbeatTimeoutMs: positive(env, 'FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS', DEFAULT_HEARTBEAT_TIMEOUT_MS),
    maxAttempts: positive(env, 'FSLM_ROUTER_MAX_ATTEMPTS', DEFAULT_MAX_ATTEMPTS),
    handoff: env.FSLM_ROUTER_HANDOFF !== '0',
    handoffMaxInFlight: positive(env, 'FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT', DEFAULT_HANDOFF_MAX_IN_FLIGHT),
    telemetry: telemetryFromEnv(env, 'fslm-router'),
  };
}
