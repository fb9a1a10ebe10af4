// The router's defaults and documented limits, in one place.

export const STACK_API_VERSION = 'fslm.dev/v1alpha1';
export const STACK_KIND = 'Stack';

/** A stage's time budget when its definition names none. */
export const DEFAULT_STAGE_BUDGET_MS = 30_000;
/** The largest budget of one stage (one day), and of a whole stack (what DescribeStack's uint32 default_deadline_ms and a Node timer hold). */
export const MAX_STAGE_BUDGET_MS = 86_400_000;
export const MAX_STACK_BUDGET_MS = 2 ** 31 - 1;
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

/**
 * A client's deadline minus this margin is when the router stops a request's work and answers
 * DEADLINE_EXCEEDED, so that the answer reaches the client before its own deadline passes.
 */
export const DEADLINE_MARGIN_MS = 100;

/** How long a stage's described limits are used before the router asks the stage again. */
export const DEFAULT_DESCRIBE_TTL_MS = 30_000;
/** How long the router waits for a stage to answer on its describe subject (less when the request's deadline is nearer). */
export const DESCRIBE_TIMEOUT_MS = 2000;

/** Generation limits the router checks at its doors (the stages hold the same ones). */
export const MAX_TEMPERATURE = 2;
export const MIN_REPETITION_PENALTY = 0.1;
export const MAX_REPETITION_PENALTY = 10;
export const MAX_STOP_SEQUENCES = 16;
/** The most top_logprobs a request may ask for: the stages' own limit (services/stage/src/logprobs.ts, as OpenAI's API). */
export const MAX_TOP_LOGPROBS = 20;
export const MAX_STOP_LENGTH = 256;
/** OpenAI documents at most 4 stop sequences; the OpenAI door keeps to that. */
export const OPENAI_MAX_STOP_SEQUENCES = 4;

/** How long a graceful shutdown may take before the router exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/** On a stop, how long the doors keep a connection open after the grace so that runs ended then can write their UNAVAILABLE. */
export const SHUTDOWN_ANSWER_MS = 1_000;
