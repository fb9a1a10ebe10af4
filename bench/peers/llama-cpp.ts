// llama.cpp through node-llama-cpp (its prebuilt CPU binary, no build) on a GGUF of the same weights, for P10.
import { getLlama, type Llama, type Token } from 'node-llama-cpp';

export interface LlamaCppModel {
  file: string;
  /** Greedy ids after `ids`, exactly `tokens` of them (EOS kept and fed back, like the other contenders); `ms`: wall time. */
  generate(ids: number[], tokens: number): Promise<{ ms: number; ids: number[] }>;
  close(): Promise<void>;
}

let llama: Promise<Llama> | null = null;

/** Loads `file` with an explicit context size and thread count (node-llama-cpp would otherwise pick them). */
export async function openLlamaCpp(file: string, options: { threads: number; contextSize: number }): Promise<LlamaCppModel> {
  llama ??= getLlama({ gpu: false, build: 'never' });
  const model = await (await llama).loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: options.contextSize, threads: options.threads, batchSize: options.contextSize });
  const sequence = context.getSequence();
  return {
    file,
    async generate(ids, tokens) {
      await sequence.clearHistory();
      const out: number[] = [];
      const start = performance.now();
      for await (const token of sequence.evaluate(ids as Token[], { temperature: 0 })) {
        out.push(token);
        if (out.length >= tokens) break;
      }
      return { ms: performance.now() - start, ids: out };
    },
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}
