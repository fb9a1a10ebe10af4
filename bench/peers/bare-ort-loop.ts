// The floor for P3: the least code that greedily decodes an fslm artifact with onnxruntime-node.
import ort from 'onnxruntime-node';

export interface BareLoop {
  generate(ids: number[], tokens: number): Promise<number[]>;
  close(): Promise<void>;
}

export async function openBareLoop(onnxPath: string, layers: number, heads: number, headDim: number, threads: number): Promise<BareLoop> {
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  return {
    async generate(ids, tokens) {
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < layers; l++) {
        feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
        feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
      }
      let input = ids;
      let position = 0;
      const out: number[] = [];
      while (out.length < tokens) {
        const n = input.length;
        feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(input, BigInt), [1, n]);
        // Graphs with GroupQueryAttention take positions from the mask.
        if (session.inputNames.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(position + i)), [1, n]);
        feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(position + n).fill(1n), [1, position + n]);
        const result = await session.run(feeds);
        const logits = result.logits;
        const vocab = logits.dims[2];
        const data = logits.data as Float32Array;
        let best = 0;
        for (let i = 1, base = (n - 1) * vocab; i < vocab; i++) if (data[base + i] > data[base + best]) best = i;
        out.push(best);
        for (let l = 0; l < layers; l++) {
          feeds[`past_key_values.${l}.key`] = result[`present.${l}.key`];
          feeds[`past_key_values.${l}.value`] = result[`present.${l}.value`];
        }
        position += n;
        input = [best];
      }
      return out;
    },
    close: () => session.release(),
  };
}
