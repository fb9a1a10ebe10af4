// The engine contract: what the gRPC door, the NATS worker and the benchmarks rely on.
import type { FslmError } from '../../shared/errors.ts';
import type { Artifact } from './artifact.ts';

export interface ChatMessage {
  role: string;
  content: string;
}

/** Generation parameters after validation: every field set. */
export interface SamplingOptions {
  maxNewTokens: number;
  /** 0 means greedy. */
  temperature: number;
  /** 0 means no top-k filter. */
  topK: number;
  /** 1 means no nucleus filter. */
  topP: number;
  /** 1 means no penalty. */
  repetitionPenalty: number;
  seed: bigint;
  stop: string[];
  /** Keep generating past end-of-sequence tokens (benchmarks and parity checks). */
  ignoreEos: boolean;
  /** Report every generated token's log-probability (TextDelta.logprobs, GenerateResult.logprobs). */
  logprobs?: boolean;
  /** With logprobs: also this many most likely tokens at each position (0 to MAX_TOP_LOGPROBS). */
  topLogprobs?: number;
}

/** One of the most likely tokens at a position. */
export interface TopLogprob {
  tokenId: number;
  /** The token's text (special tokens as their text). */
  token: string;
  /** Natural log of its probability. */
  logprob: number;
}

/**
 * A token and its log-probability under the model's own distribution at its position (log-softmax of
 * the logits, before temperature, top-k, top-p or a repetition penalty shape sampling).
 */
export interface TokenLogprob extends TopLogprob {
  /** The most likely tokens at this position, most likely first. */
  topLogprobs: TopLogprob[];
}

/**
 * A prompt as the engine takes it. `text` and every chat message's content are user text: they are
 * encoded as plain text, so no special (control) token can arise from them. `ids` are taken as they are.
 */
export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'chat'; messages: ChatMessage[] }
  | { kind: 'ids'; ids: number[] };

/**
 * One piece of a rendered prompt. `markup` pieces belong to the chat template (they may hold special
 * tokens such as `<|im_start|>`); the others are content (user or earlier stages' text), never markup.
 */
export interface PromptPiece {
  text: string;
  markup: boolean;
}

export interface GenerateInput {
  prompt: PromptInput;
  sampling: SamplingOptions;
  requestId: string;
}

export interface TextDelta {
  seq: number;
  text: string;
  tokens: number;
  /** With sampling.logprobs: one entry per token of `tokens`, in order. */
  logprobs?: TokenLogprob[];
}

export const FinishReason = {
  Eos: 'eos',
  Length: 'length',
  Stop: 'stop',
  Cancelled: 'cancelled',
  Deadline: 'deadline',
} as const;
export type FinishReason = (typeof FinishReason)[keyof typeof FinishReason];

export interface Timings {
  queueMs: number;
  prefillMs: number;
  firstTokenMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface GenerateResult {
  requestId: string;
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  timings: Timings;
  /** With sampling.logprobs: one entry per generated token (an end-of-sequence token included). */
  logprobs?: TokenLogprob[];
}

/** Continuations of one prompt to score (nothing is generated). */
export interface ScoreInput {
  prompt: PromptInput;
  /** 1 to MAX_CONTINUATIONS non-empty texts. */
  continuations: string[];
  /** Also this many most likely tokens at each continuation position (0 to MAX_TOP_LOGPROBS). */
  topLogprobs: number;
  requestId: string;
}

export interface ContinuationScore {
  tokens: TokenLogprob[];
  /** Sum of the tokens' log-probabilities. */
  logprob: number;
  /** Every token is the most likely one at its position. */
  greedy: boolean;
}

export interface ScoreResult {
  requestId: string;
  /** One per input continuation, in order. */
  continuations: ContinuationScore[];
  promptTokens: number;
  /** queueMs, prefillMs (the prompt), decodeMs (the continuations), totalMs; firstTokenMs is 0. */
  timings: Timings;
}

export interface GenerateCallbacks {
  /** Aborting stops generation within one engine step; the result then has finish reason cancelled or deadline. */
  signal?: AbortSignal;
  onDelta?: (delta: TextDelta) => void;
  /** Called once per decoded token with its logits row (parity checks only; slows decoding). */
  onLogits?: (logits: Float32Array) => void;
}

/** The limits the engine enforces on every request (the ones Describe reports). */
export interface EngineLimits {
  /** Requests decoded together in one step. */
  maxBatchSize: number;
  /** Requests admitted beyond the batch (waiting, or hand-off prompts being fed) before RESOURCE_EXHAUSTED. */
  maxQueue: number;
  /** Prompt tokens accepted. */
  maxPromptTokens: number;
  /** Largest max_new_tokens accepted. */
  maxNewTokensLimit: number;
  /** max_new_tokens when a request leaves it 0. */
  defaultMaxNewTokens: number;
  /** The model's context (max_position_embeddings): prompt + max_new_tokens must fit; null when the model states none. */
  contextTokens: number | null;
}

/** What the engine holds right now, and totals since it started. */
export interface EngineStats {
  /** Rows of the decode batch. */
  active: number;
  /** Admitted requests waiting for a batch slot. */
  queued: number;
  /** Requests taking their prefill (one chunk per engine step). */
  prefilling: number;
  /** Score requests admitted and not finished (one run per engine step). */
  scoring: number;
  /** Incremental (hand-off) prompts admitted and not started yet. */
  openPrompts: number;
  /** Everything admission control counts: active + queued + prefilling + scoring + openPrompts (at most maxBatchSize + maxQueue). */
  admitted: number;
  /** KV-cache rows held (decode batch, prefills in progress, score requests, hand-off prompts). */
  kvRows: number;
  /** Positions held in those rows (memory in use, in positions of one row). */
  kvPositions: number;
  /** Decode steps run so far. */
  decodeSteps: number;
  /** Prefill runs so far (requests' prompts and hand-off prompts, one chunk each). */
  prefillRuns: number;
  /** Runs for score requests so far (a prompt chunk, or continuations together). */
  scoreRuns: number;
  tokensGenerated: number;
}

export interface BeginPromptOptions {
  /** False for prompts that hold their own markup (chat templates): the tokenizer adds no special tokens of its own. */
  addSpecialTokens?: boolean;
  /** The max_new_tokens the request will ask for: prompt + this must fit the model's context. Defaults to 1. */
  maxNewTokens?: number;
  /**
   * Called once if the engine drops the prompt before start(): admission refused it, it outgrew the
   * limits, or the engine stopped. Its cache is already freed; start() then rejects with the same error.
   */
  onRefused?: (error: FslmError) => void;
}

/**
 * A prompt being fed in pieces (the streamed hand-off between stages): text appended so far is
 * prefilled into the KV cache as it arrives, so start() leaves only the tail to prefill. It counts
 * against admission from beginPrompt() until it is started, discarded or refused.
 */
export interface IncrementalPrompt {
  /** More of the prompt: a string is content; pieces may hold template markup (which may hold special tokens). */
  append(more: string | readonly PromptPiece[]): void;
  /** Completes the prompt with the rest and generates. */
  start(rest: PromptPiece[], sampling: SamplingOptions, callbacks?: GenerateCallbacks): Promise<GenerateResult>;
  /** Abandons the prompt and frees its cache. */
  discard(): void;
}

export interface InferenceEngine {
  readonly limits: EngineLimits;
  readonly artifact: Artifact;
  readonly hasChatTemplate: boolean;
  generate(input: GenerateInput, callbacks?: GenerateCallbacks): Promise<GenerateResult>;
  /**
   * Scores continuations of a prompt: admitted and bounded like a request (prompt tokens plus the
   * longest continuation's against the prompt and context limits); aborting `signal` drops it within
   * one engine step and rejects with the abort reason.
   */
  score(input: ScoreInput, options?: { signal?: AbortSignal }): Promise<ScoreResult>;
  /** Renders a prompt to the exact text fed to the tokenizer. */
  renderPrompt(prompt: PromptInput): string;
  /** Renders a prompt to markup and content pieces (what renderPrompt joins). */
  renderPieces(prompt: PromptInput): PromptPiece[];
  /**
   * Starts an incremental prompt. Never throws: a refusal (RESOURCE_EXHAUSTED when admission is full,
   * INVALID_ARGUMENT when it outgrows the limits, UNAVAILABLE when the engine stops) comes through
   * options.onRefused, asynchronously, and start() then rejects with it.
   */
  beginPrompt(requestId: string, options?: BeginPromptOptions): IncrementalPrompt;
  /** What the engine holds now (rejects once the engine has failed). */
  stats(): Promise<EngineStats>;
  close(): Promise<void>;
}
