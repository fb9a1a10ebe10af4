// The router's settings from the environment (the only place the router reads process.env); flags
// on the command line override them.
import { SHUTDOWN_GRACE_MS } from '../../shared/grpc-serve.ts';
import { telemetryFromEnv, type TelemetryOptions } from '../../shared/telemetry.ts';
import { parseCorsOrigins } from './cors.ts';
import { MAX_TIMER_MS } from '../../shared/long-timer.ts';
import {
  DEFAULT_DESCRIBE_TTL_MS, DEFAULT_HANDOFF_MAX_IN_FLIGHT, DEFAULT_HEARTBEAT_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_IN_FLIGHT,
  SHUTDOWN_TIMEOUT_MS,
} from './defaults.ts';

/** The longest grace a stop gives requests in flight: room is left for the rest of the shutdown. */
const MAX_SHUTDOWN_GRACE_MS = SHUTDOWN_TIMEOUT_MS - 3000;

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
  /** FSLM_ROUTER_DESCRIBE_TTL_MS: how long a stage's described limits are used before it is asked again. */
  describeTtlMs: number;
  /** FSLM_ROUTER_CORS_ORIGINS: browser origins allowed on the HTTP door (comma-separated, or *); none by default. */
  corsOrigins: string[];
  /**
   * FSLM_ROUTER_SHUTDOWN_GRACE_MS: on a stop, how long requests in flight may still finish before they
   * end with UNAVAILABLE (default SHUTDOWN_GRACE_MS; less than the whole shutdown's bound).
   */
  shutdownGraceMs: number;
  telemetry: TelemetryOptions;
}

/**
 * A positive integer of at most `max`, or an error that names where it came from (a variable or a
 * flag). Durations are bounded by what a Node timer honours, so none is silently cut short.
 */
export function parsePositiveInt(raw: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new Error(`${name} must be a positive integer of at most ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function positive(env: Record<string, string | undefined>, key: string, fallback: number, max?: number): number {
  const raw = env[key];
  return raw === undefined || raw === '' ? fallback : parsePositiveInt(raw, key, max);
}

export function readRouterEnvironment(env: Record<string, string | undefined> = process.env): RouterEnvironment {
  return {
    maxInFlight: positive(env, 'FSLM_ROUTER_MAX_IN_FLIGHT', DEFAULT_MAX_IN_FLIGHT),
    heartbeatMs: positive(env, 'FSLM_ROUTER_HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS, MAX_TIMER_MS),
    heartbeatTimeoutMs: positive(env, 'FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS', DEFAULT_HEARTBEAT_TIMEOUT_MS, MAX_TIMER_MS),
    maxAttempts: positive(env, 'FSLM_ROUTER_MAX_ATTEMPTS', DEFAULT_MAX_ATTEMPTS),
    handoff: env.FSLM_ROUTER_HANDOFF !== '0',
    handoffMaxInFlight: positive(env, 'FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT', DEFAULT_HANDOFF_MAX_IN_FLIGHT),
    describeTtlMs: positive(env, 'FSLM_ROUTER_DESCRIBE_TTL_MS', DEFAULT_DESCRIBE_TTL_MS, MAX_TIMER_MS),
    corsOrigins: parseCorsOrigins(env.FSLM_ROUTER_CORS_ORIGINS),
    shutdownGraceMs: positive(env, 'FSLM_ROUTER_SHUTDOWN_GRACE_MS', SHUTDOWN_GRACE_MS, MAX_SHUTDOWN_GRACE_MS),
    telemetry: telemetryFromEnv(env, 'fslm-router'),
  };
}
