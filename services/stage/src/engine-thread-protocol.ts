// Messages between a ThreadedEngine (main thread) and the engine worker thread.
import type { Artifact } from './artifact.ts';
import type { OnnxEngineOptions } from './engine-options.ts';
import type { EngineLimits, EngineStats, GenerateInput, GenerateResult, PromptPiece, SamplingOptions, ScoreInput, ScoreResult, TextDelta } from './types.ts';
import type { ErrorCode } from '../../shared/errors.ts';

/** Test-only faults the engine thread can be told to commit: exit, or throw an uncaught error. */
export type EngineFault = 'exit' | 'throw';

export type ToWorker =
  /** `stream`: the caller listens for deltas (none are posted otherwise). */
  | { type: 'generate'; id: number; input: GenerateInput; stream: boolean }
  | { type: 'score'; id: number; input: ScoreInput }
  | { type: 'abort'; id: number; deadline: boolean }
  | { type: 'begin'; id: number; requestId: string; addSpecialTokens: boolean; maxNewTokens: number }
  | { type: 'append'; id: number; pieces: PromptPiece[] }
  | { type: 'start'; id: number; rest: PromptPiece[]; sampling: SamplingOptions; stream: boolean }
  | { type: 'discard'; id: number }
  | { type: 'stats'; id: number }
  | { type: 'fault'; fault: EngineFault }
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
  | { type: 'result'; id: number; result: GenerateResult }
  | { type: 'scored'; id: number; result: ScoreResult }
  | { type: 'error'; id: number; error: WireError }
  /** An incremental prompt dropped before its start (admission, limits, engine stopping). */
  | { type: 'refused'; id: number; error: WireError }
  | { type: 'stats'; id: number; stats: EngineStats }
  | { type: 'closed' };

export interface WorkerData {
  options: OnnxEngineOptions;
}
