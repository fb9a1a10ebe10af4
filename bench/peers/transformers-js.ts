// transformers.js (@huggingface/transformers) reading the same artifact directory and file, for P2.
import path from 'node:path';
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';

export interface TransformersJsModel {
  generate(ids: number[], tokens: number): Promise<number[]>;
  close(): Promise<void>;
}

/** transformers.js' dtype for each of the artifact's files (its file-name suffixes: '', _quantized, _q4). */
export const TRANSFORMERS_JS_DTYPE = { fp32: 'fp32', int8: 'q8', int4: 'q4' } as const;

export async function openTransformersJs(modelDir: string, threads: number, precision: keyof typeof TRANSFORMERS_JS_DTYPE = 'fp32'): Promise<TransformersJsModel> {
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(modelDir);
  const model = await AutoModelForCausalLM.from_pretrained(path.basename(modelDir), {
    dtype: TRANSFORMERS_JS_DTYPE[precision],
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  return {
    async generate(ids, tokens) {
      const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const output = (await model.generate({ input_ids, attention_mask, max_new_tokens: tokens, min_new_tokens: tokens, do_sample: false })) as Tensor;
      return Array.from(output.data as BigInt64Array, Number).slice(ids.length);
    },
    close: async () => {
      await model.dispose();
    },
  };
}
