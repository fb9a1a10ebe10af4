// The router's contracts: stack definitions, the message bus seam, and what a stack run reports.
import type { FslmError } from '../../shared/errors.ts';
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
  open(address: StageAddress, run: StageRun, headers: HopHeaders): StageConversation;
  close(): Promise<void>;
}

/** What a caller asks of a stack. */
export interface StackRunRequest {
  requestId: string;
  input: string;
  /** Absolute deadline (epoch ms); Infinity for the stack's default. */
  deadlineMs: number;
  /** Per-stage overrides of generation parameters (non-zero fields win). */
  params: Record<string, GenerationParams>;
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

/** Progress of a run, for streaming doors (gRPC RunStream, OpenAI SSE). */
export interface RunObserver {
  stageStarted?(event: { stage: string; index: number; attempt: number; replica: string; model: string; modelVersion: string }): void;
  stageDelta?(event: { stage: string; index: number; attempt: number; delta: TextDelta__Output }): void;
  stageFinished?(outcome: StageOutcome): void;
}
