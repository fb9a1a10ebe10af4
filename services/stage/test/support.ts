// Helpers for the stage's tests: engines on the shared test models and plain sampling options.
import { OnnxEngine } from '../src/engine-onnx.ts';
import type { OnnxEngineOptions } from '../src/engine-options.ts';
import type { GenerateCallbacks, GenerateResult, PromptInput, SamplingOptions } from '../src/types.ts';

export function greedy(maxNewTokens: number, overrides: Partial<SamplingOptions> = {}): SamplingOptions {
  return { maxNewTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0n, stop: [], ignoreEos: true, ...overrides };
}

export function openEngine(modelDir: string, options: Partial<OnnxEngineOptions> = {}): Promise<OnnxEngine> {
  return OnnxEngine.load({ modelDir, intraOpThreads: 1, ...options });
}

let nextId = 0;
export function run(engine: OnnxEngine, prompt: PromptInput, sampling: SamplingOptions, callbacks?: GenerateCallbacks): Promise<GenerateResult> {
  return engine.generate({ prompt, sampling, requestId: `test-${nextId++}` }, callbacks);
}

export function promptOf(ref: { text: string; chat: boolean; input_ids: number[] }): PromptInput {
  return { kind: 'ids', ids: ref.input_ids };
}
