// The router's defaults, in one place.

export const STACK_API_VERSION = 'fslm.dev/v1alpha1';
export const STACK_KIND = 'Stack';

/** A stage's time budget when its definition names none. */
export const DEFAULT_STAGE_BUDGET_MS = 30_000;
export const MAX_STAGE_NEW_TOKENS = 2048;

export const DEFAULT_GRPC_ADDRESS = '127.0.0.1:50050';
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Requests run at once; more get RESOURCE_EXHAUSTED (HTTP 429). */
export const DEFAULT_MAX_IN_FLIGHT = 64;
/** How often a stage replica reports that it is alive while it holds a request (one value for router and stages). */
export { DEFAULT_HEARTBEAT_MS } from '../../shared/bus-codec.ts';
/** Silence after which a replica counts as lost and the stage is retried on another one. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3000;
/** Requests in flight up to which the streamed hand-off is used (see StackRunnerConfig). */
export const DEFAULT_HANDOFF_MAX_IN_FLIGHT = 2;
/** Tries per stage (the first plus retries on other replicas), within the deadline. */
export const DEFAULT_MAX_ATTEMPTS = 5;
