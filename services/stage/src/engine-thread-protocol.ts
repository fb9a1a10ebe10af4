// Messages between a ThreadedEngine (main thread) and the engine worker thread.
import type { Artifact } from './artifact.ts';
import type { OnnxEngineOptions } from './engine-options.ts';
import type { EngineLimits, EngineStats, GenerateInput, GenerateResult, SamplingOptions, TextDelta } from './types.ts';
import type { ErrorCode } from '../../shared/errors.ts';

export type ToWorker =
  /** `stream`: the caller listens for deltas (none are posted otherwise). */
  | { type: 'generate'; id: number; input: GenerateInput; stream: boolean }
  | { type: 'abort'; id: number; deadline: boolean }
  | { type: 'begin'; id: number; requestId: string; addSpecialTokens: boolean }
  | { type: 'append'; id: number; text: string }
  | { type: 'start'; id: number; rest: string; sampling: SamplingOptions; stream: boolean }
  | { type: 'discard'; id: number }
  | { type: 'close' };

export interface WireError {
  code: ErrorCode;
  message: string;
  field?: string;
}

export type FromWorker =
  | { type: 'ready'; limits: EngineLimits; artifact: Artifact }
  | { type: 'load-failed'; error: WireError }
  | { type: 'delta'; id: number; delta: TextDelta }
  | { type: 'result'; id: number; result: GenerateResult; stats: EngineStats }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'closed' };

export interface WorkerData {
  options: OnnxEngineOptions;
}
