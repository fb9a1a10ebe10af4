// The engine contract: what the gRPC door, the NATS worker and the benchmarks rely on.

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
}

export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'chat'; messages: ChatMessage[] }
  | { kind: 'ids'; ids: number[] };

export interface GenerateInput {
  prompt: PromptInput;
  sampling: SamplingOptions;
  requestId: string;
}

export interface TextDelta {
  seq: number;
  text: string;
  tokens: number;
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
}

export interface GenerateCallbacks {
  /** Aborting stops generation within one decode step; the result then has finish reason cancelled or deadline. */
  signal?: AbortSignal;
  onDelta?: (delta: TextDelta) => void;
  /** Called once per decoded token with its logits row (parity checks only; slows decoding). */
  onLogits?: (logits: Float32Array) => void;
}

export interface EngineLimits {
  maxBatchSize: number;
  maxQueue: number;
  maxPromptTokens: number;
  maxNewTokensLimit: number;
  defaultMaxNewTokens: number;
}

export interface EngineStats {
  active: number;
  queued: number;
  decodeSteps: number;
  tokensGenerated: number;
}

/**
 * A prompt being fed in pieces (the streamed hand-off between stages): text appended so far is
 * prefilled into the KV cache as it arrives, so start() leaves only the tail to prefill.
 */
export interface IncrementalPrompt {
  append(text: string): void;
  /** Completes the prompt with the rest of the text and generates. */
  start(rest: string, sampling: SamplingOptions, callbacks?: GenerateCallbacks): Promise<GenerateResult>;
  /** Abandons the prompt and frees its cache. */
  discard(): void;
}

export interface InferenceEngine {
  readonly limits: EngineLimits;
  readonly hasChatTemplate: boolean;
  generate(input: GenerateInput, callbacks?: GenerateCallbacks): Promise<GenerateResult>;
  /** Renders a prompt to the exact text fed to the tokenizer. */
  renderPrompt(prompt: PromptInput): string;
  /** addSpecialTokens: false for prompts rendered by the chat template (they hold their special tokens). */
  beginPrompt(requestId: string, options?: { addSpecialTokens?: boolean }): IncrementalPrompt;
  stats(): EngineStats;
  close(): Promise<void>;
}
