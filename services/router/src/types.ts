// The router's contracts: stack definitions, the message bus seam, and what a stack run reports.
import type { FslmError } from '../../shared/errors.ts';
import type { DescribeResponse__Output } from '../../shared/generated/fslm/v1/DescribeResponse.ts';
import type { ScoreRequest } from '../../shared/generated/fslm/v1/ScoreRequest.ts';
import type { ScoreResponse__Output } from '../../shared/generated/fslm/v1/ScoreResponse.ts';
import type { ChatMessage } from '../../shared/generated/fslm/v1/ChatMessage.ts';
import type { GenerateResult__Output } from '../../shared/generated/fslm/v1/GenerateResult.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import type { StageAccepted__Output } from '../../shared/generated/fslm/v1/StageAccepted.ts';
import type { StageControl } from '../../shared/generated/fslm/v1/StageControl.ts';
import type { StageRun } from '../../shared/generated/fslm/v1/StageRun.ts';
import type { TextDelta__Output } from '../../shared/generated/fslm/v1/TextDelta.ts';
import type { Template } from './template.ts';

/** A validated stack (stacks/*.yaml, kind Stack). */
export interface StackDefinition {
  name: string;
  description: string;
  stages: StageDefinition[];
  /** The file it was loaded from, if any. */
  source?: string;
}

export interface StageDefinition {
  name: string;
  /** The artifact the stage serves: a name from scripts/models or a directory. */
  model: string;
  /** The weights its stage processes load (`fslm stage --precision`). */
  precision: 'fp32' | 'int8' | 'int4';
  /** NATS subject prefix: runs go to <prefix>.run (see bus-codec.ts). */
  subjectPrefix: string;
  system: string;
  template: Template;
  params: GenerationParams;
  budgetMs: number;
  /** The previous stage's name when the streamed hand-off can feed this stage (its template uses that text once). */
  handoffFrom: string | null;
}

/** Where a stage lives on the bus. */
export interface StageAddress {
  stack: string;
  stage: string;
  subjectPrefix: string;
}

export type ConversationEvent =
  | { type: 'accepted'; accepted: StageAccepted__Output }
  | { type: 'heartbeat' }
  | { type: 'delta'; delta: TextDelta__Output }
  | { type: 'result'; result: GenerateResult__Output }
  /** noResponders: NATS answered that no replica listens on the subject. */
  | { type: 'error'; error: FslmError; noResponders?: boolean };

/** One exchange with whichever replica took a StageRun. */
export interface StageConversation {
  readonly requestId: string;
  /** Events in arrival order; the first listener set receives any buffered ones. */
  listen(listener: (event: ConversationEvent) => void): void;
  /** Sends a control message to the replica that accepted (after its accepted event). */
  control(message: StageControl, headers: HopHeaders): void;
  /** Tells every replica of the stage to drop this request, and stops listening. */
  cancel(reason: 'cancelled' | 'deadline'): void;
  /** Stops listening (the exchange is over). */
  close(): void;
}

export interface HopHeaders {
  requestId: string;
  deadlineMs: number;
  trace: Record<string, string>;
}

/** The router's view of the message bus (bus-nats.ts over a real NATS connection). */
export interface MessageBus {
  /** Publishes a StageRun to the stage's queue subject; the conversation carries whatever replica takes it. */
  open(address: StageAddress, run: StageRun, headers: HopHeaders): StageConversation;
  /**
   * Asks one replica of the stage for its model and limits (an empty DescribeRequest on
   * <prefix>.describe). Rejects with UNAVAILABLE when no replica listens, none answers within
   * `timeoutMs`, or the one that answers replies an error or something malformed.
   */
  describe(address: StageAddress, timeoutMs: number): Promise<DescribeResponse__Output>;
  /**
   * Scores continuations on one replica of the stage (<prefix>.score). Rejects with UNAVAILABLE when
   * no replica listens or none answers before `headers.deadlineMs`, with the error the replica
   * replies, and with the abort reason when `signal` aborts (the replica is told to drop the request).
   */
  score(address: StageAddress, request: ScoreRequest, headers: HopHeaders, signal: AbortSignal): Promise<ScoreResponse__Output>;
  /** Stops the bus; bounded (a NATS server that is gone does not hold it up). */
  close(): Promise<void>;
}

/**
 * One stage's generation parameters as a request sets them (GenerationParams with numbers only): a
 * field that is `undefined` keeps the stack's value; any other value was set explicitly.
 */
export interface StageParams {
  max_new_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  /** An unsigned 64-bit integer in decimal. */
  seed?: string;
  stop?: string[];
  /** Report each generated token's log-probability (the stage's result and deltas carry them). */
  logprobs?: boolean;
  /** With logprobs: also the this-many most likely tokens at each position, 0 to MAX_TOP_LOGPROBS. */
  top_logprobs?: number;
}

/** How a door names the fields of a request, so that a refusal names what its client wrote. */
export interface RequestFields {
  /** The field that holds the input (gRPC `input`, OpenAI `messages`). */
  input: string;
  /** The field a stage's parameter came from (gRPC `params.<stage>.<key>`, OpenAI e.g. `max_tokens`). */
  param(stage: string, key: keyof StageParams): string;
}

/** What a caller asks of a stack, after its door checked every field that does not depend on a stage's limits. */
export interface StackRunRequest {
  requestId: string;
  input: string;
  /** The client's absolute deadline (epoch ms); Infinity when it set none (the stack's budgets then give one). */
  deadlineMs: number;
  /**
   * Per-stage overrides of the stack's generation parameters, by stage name (a door sets StageParams,
   * checked): a field that is `undefined` keeps the stack's value.
   */
  params: Record<string, GenerationParams>;
  /** How the door names the request's fields (a request built in-process: as the gRPC door does). */
  fields?: RequestFields;
  handoff: boolean;
  signal: AbortSignal;
  /** W3C trace context of the caller, if it sent one. */
  trace?: Record<string, string>;
}

export interface StageOutcome {
  stage: string;
  index: number;
  text: string;
  result: GenerateResult__Output;
  model: string;
  modelVersion: string;
  /** The version of the LoRA adapter merged into the replica's model; '' for a model without one. */
  adapterVersion: string;
  replica: string;
  attempts: number;
  streamedHandoff: boolean;
  handoffGapMs: number;
  durationMs: number;
}

export interface StackOutcome {
  requestId: string;
  stack: string;
  text: string;
  stages: StageOutcome[];
  totalMs: number;
  traceId: string;
}

/** What a StackService.Score asks beyond a run: the continuations to score as the last stage's answer. */
export interface ScoreAsk {
  /** 1 to MAX_SCORE_CONTINUATIONS non-empty texts. */
  continuations: string[];
  /** 0 to 20. */
  topLogprobs: number;
}

/** The earlier stages' outcomes, the last stage's rendered messages and its scores. */
export interface StackScoreOutcome {
  requestId: string;
  stack: string;
  stages: StageOutcome[];
  scoredStage: string;
  messages: ChatMessage[];
  score: ScoreResponse__Output;
  /** The artifact the stack names for the last stage. */
  model: string;
  /** Router clock: the scoring call on the last stage. */
  scoreMs: number;
  totalMs: number;
  traceId: string;
}

/**
 * Progress of a run, for streaming doors (gRPC RunStream, OpenAI SSE). A stage retried on another
 * replica is started again with attempt + 1; the deltas of that attempt start its text over.
 */
export interface RunObserver {
  stageStarted?(event: { stage: string; index: number; attempt: number; replica: string; model: string; modelVersion: string; adapterVersion: string }): void;
  stageDelta?(event: { stage: string; index: number; attempt: number; delta: TextDelta__Output }): void;
  stageFinished?(outcome: StageOutcome): void;
}
