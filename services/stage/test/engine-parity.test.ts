// The engine against PyTorch: same token ids, logits within 1e-3, identical greedy continuations.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../../../test/support/models.ts';
import { maxAbsDiff, readReference, type Reference } from '../../../test/support/reference.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import { greedy, openEngine, run } from './support.ts';

const LOGIT_TOLERANCE = 1e-3;

for (const name of ['tiny', 'smollm2-135m'] as const) {
  describe(`parity with PyTorch on ${name}`, { timeout: 600_000 }, () => {
    let engine: OnnxEngine;
    let reference: Reference;
    before(async () => {
      const models = testModels();
      engine = await openEngine(models[`${name}-onnx`], { intraOpThreads: 2 });
      reference = readReference(models[`${name}-ref`]);
    });
    after(() => engine.close());

    test('the tokenizer gives the reference ids for every prompt', () => {
      for (const prompt of reference.prompts) {
        const input = prompt.chat && prompt.messages ? { kind: 'chat' as const, messages: prompt.messages } : { kind: 'text' as const, text: prompt.text };
        assert.equal(engine.renderPrompt(input), prompt.text, `rendered text of ${prompt.name}`);
        assert.deepEqual(engine.codec.encodePrompt(input), prompt.input_ids, `ids of ${prompt.name}`);
      }
    });

    test('logits match within 1e-3 and greedy continuations are identical', async () => {
      for (const prompt of reference.prompts) {
        const rows: Float32Array[] = [];
        const result = await run(engine, { kind: 'ids', ids: prompt.input_ids }, greedy(reference.tokens), { onLogits: (row) => rows.push(row) });
        assert.deepEqual(result.tokenIds, prompt.greedy_ids, `greedy ids of ${prompt.name}`);
        rows.forEach((row, step) => {
          const diff = maxAbsDiff(row, reference.logits(prompt, step));
          assert.ok(diff <= LOGIT_TOLERANCE, `${prompt.name} step ${step}: max |logit diff| ${diff}`);
        });
      }
    });

    test('prompts decoded together give the same greedy text as one at a time', async () => {
      const alone = [];
      for (const prompt of reference.prompts) alone.push((await run(engine, { kind: 'ids', ids: prompt.input_ids }, greedy(12))).tokenIds);
      const together = await Promise.all(reference.prompts.map((p) => run(engine, { kind: 'ids', ids: p.input_ids }, greedy(12))));
      assert.deepEqual(together.map((r) => r.tokenIds), alone);
    });
  });
}
