// Every quantized precision of the test artifacts, served by the engine:
// - greedy ids identical to onnxruntime's Python API running the same file with the same loop
//   (support/ort_greedy.py), and logits within 1e-3 of it at every step;
// - prefill logits within the fidelity to fp32 that the export measured and recorded in fslm.json
//   (variants.<precision>.fidelity.prompts.<name>.prefill_max_abs_logit_error), plus 1e-3;
// - batching, joining a running batch and a prompt fed in pieces give the same greedy ids as one
//   request alone (the shared in-place KV cache moves rows between steps), and a prompt prefilled
//   ahead one token at a time the same logits, bit for bit, as the whole prompt.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, testModels, type TestModels } from '../../../test/support/models.ts';
import { maxAbsDiff, readReference, type Reference } from '../../../test/support/reference.ts';
import type { Precision } from '../src/artifact.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import type { IncrementalPromptImpl } from '../src/incremental-prompt.ts';
import { greedy, openEngine, run } from './support.ts';

const SAME_FILE_TOLERANCE = 1e-3;

function python(): string {
  return execFileSync('bash', ['-c', `source "${path.join(REPO_ROOT, 'scripts/lib.sh')}" && echo "$FSLM_PY"`], { encoding: 'utf8' }).trim();
}

interface PythonGreedy {
  ids: number[][];
  /** Row `step` of prompt `p` (row 0: the prefill's last position). */
  logits(p: number, step: number): Float32Array;
}

/** Runs support/ort_greedy.py on `onnxFile` for the prompts. */
function pythonGreedy(onnxFile: string, prompts: number[][], tokens: number, vocab: number): PythonGreedy {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-ort-greedy-'));
  try {
    writeFileSync(path.join(dir, 'prompts.json'), JSON.stringify(prompts));
    execFileSync(python(), [path.join(REPO_ROOT, 'services/stage/test/support/ort_greedy.py'), '--model', onnxFile, '--prompts', path.join(dir, 'prompts.json'),
      '--tokens', String(tokens), '--out', dir], { env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'services/trainer/src') }, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    const { ids } = JSON.parse(readFileSync(path.join(dir, 'greedy.json'), 'utf8')) as { ids: number[][] };
    const raw = readFileSync(path.join(dir, 'logits.f32'));
    const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    return { ids, logits: (p, step) => all.subarray(((tokens + 1) * p + step) * vocab, ((tokens + 1) * p + step + 1) * vocab) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CASES: Array<{ model: 'tiny' | 'smollm2-135m'; precision: Precision }> = [
  { model: 'tiny', precision: 'int8' },
  { model: 'tiny', precision: 'int4' },
  { model: 'smollm2-135m', precision: 'int8' },
  { model: 'smollm2-135m', precision: 'int4' },
];

for (const { model, precision } of CASES) {
  describe(`${precision} on ${model}`, { timeout: 900_000 }, () => {
    let engine: OnnxEngine;
    let reference: Reference;
    let peer: PythonGreedy;
    before(async () => {
      const models: TestModels = testModels(model === 'tiny' ? 'tiny' : 'all');
      engine = await openEngine(models[`${model}-onnx`], { precision, maxBatchSize: 8 });
      reference = readReference(models[`${model}-ref`]);
      peer = pythonGreedy(engine.artifact.onnxPath, reference.prompts.map((p) => p.input_ids), reference.tokens, reference.vocab_size);
    });
    after(() => engine?.close());

    test('the engine serves the precision from its own file, with the shared in-place cache', () => {
      assert.equal(engine.artifact.precision, precision);
      assert.equal(engine.artifact.onnxPath, path.join(engine.artifact.dir, engine.artifact.manifest.onnx[precision]));
      assert.equal(engine.artifact.kvLayout, 'shared');
    });

    test('greedy ids are those of onnxruntime (Python) on the same file, logits within 1e-3 at every step', async () => {
      for (const [p, prompt] of reference.prompts.entries()) {
        const rows: Float32Array[] = [];
        const result = await run(engine, { kind: 'ids', ids: prompt.input_ids }, greedy(reference.tokens), { onLogits: (row) => rows.push(row.slice()) });
        assert.deepEqual(result.tokenIds, peer.ids[p], `greedy ids of ${prompt.name}`);
        rows.forEach((row, step) => {
          const diff = maxAbsDiff(row, peer.logits(p, step));
          assert.ok(diff <= SAME_FILE_TOLERANCE, `${prompt.name} step ${step}: max |logit diff| ${diff} vs onnxruntime (Python)`);
        });
      }
    });

    test('prefill logits stay within the fidelity to fp32 measured at export', async () => {
      const fidelity = engine.artifact.manifest.variants![precision].fidelity as { prompts: Record<string, { prefill_max_abs_logit_error: number }> };
      for (const prompt of reference.prompts) {
        let first: Float32Array | null = null;
        await run(engine, { kind: 'ids', ids: prompt.input_ids }, greedy(1), { onLogits: (row) => (first ??= row.slice()) });
        const recorded = fidelity.prompts[prompt.name].prefill_max_abs_logit_error;
        const diff = maxAbsDiff(first!, reference.logits(prompt, 0));
        assert.ok(diff <= recorded + SAME_FILE_TOLERANCE, `${prompt.name}: max |logit - fp32| ${diff}, export recorded ${recorded}`);
      }
    });

    test('prompts of different lengths decoded together give the ids of each alone', async () => {
      const together = await Promise.all(reference.prompts.map((p) => run(engine, { kind: 'ids', ids: p.input_ids }, greedy(12))));
      assert.deepEqual(together.map((r) => r.tokenIds), peer.ids.map((ids) => ids.slice(0, 12)));
    });

    test('a request that joins a running batch, and one that leaves it early, keep their ids', async () => {
      const [long, short, late] = reference.prompts;
      let joined: Promise<number[]> | null = null;
      const first = run(engine, { kind: 'ids', ids: long.input_ids }, greedy(24), {
        onDelta: (d) => {
          if (d.seq === 2 && !joined) joined = run(engine, { kind: 'ids', ids: late.input_ids }, greedy(16)).then((r) => r.tokenIds);
        },
      });
      const early = run(engine, { kind: 'ids', ids: short.input_ids }, greedy(4));
      const [a, b] = await Promise.all([first, early]);
      assert.ok(joined, 'the third request was sent while the first decoded');
      assert.deepEqual(a.tokenIds, peer.ids[0].slice(0, 24));
      assert.deepEqual(b.tokenIds, peer.ids[1].slice(0, 4));
      assert.deepEqual(await joined, peer.ids[2].slice(0, 16));
    });

    test('a prompt fed in pieces, some prefilled ahead, gives the ids of the whole prompt', async () => {
      const prompt = reference.prompts.find((p) => !p.chat)!;
      const text = prompt.text;
      const incremental = engine.beginPrompt(`pieces-${precision}`, { addSpecialTokens: true, maxNewTokens: 12 }) as IncrementalPromptImpl;
      const cut = Math.max(1, text.lastIndexOf(' '));
      for (const piece of text.slice(0, cut).match(/.{1,5}/gs)!) incremental.append(piece);
      // The engine's loop extends scheduled prompts before it admits a request: once this one is
      // answered, the pieces so far are in the prompt's cache.
      await run(engine, { kind: 'ids', ids: prompt.input_ids.slice(0, 2) }, greedy(1));
      assert.ok(incremental.prefilledAhead > 0, 'part of the prompt was prefilled ahead');
      const result = await incremental.start([{ text: text.slice(cut), markup: false }], greedy(12));
      assert.deepEqual(result.tokenIds, peer.ids[reference.prompts.indexOf(prompt)].slice(0, 12));
    });

    test('a prompt prefilled ahead word by word (one token per run) gives the logits of the whole prompt bit for bit', async () => {
      // GroupQueryAttention computes a lone token on top of a cache with other numbers than a prompt
      // run: the streamed hand-off must not feed one (prefill-span.ts), or greedy text changes.
      const prompt = reference.prompts.find((p) => !p.chat)!;
      const words = prompt.text.split(/(?<=\s)(?=\S)/);
      assert.ok(words.length >= 4, 'the prompt has words to stream');
      const incremental = engine.beginPrompt(`words-${precision}`, { addSpecialTokens: true, maxNewTokens: 8 }) as IncrementalPromptImpl;
      for (const word of words.slice(0, -1)) {
        incremental.append(word);
        // The loop extends a scheduled prompt before it admits a request: once this one is answered,
        // the words so far (less the last token, which may still merge) are prefilled.
        await run(engine, { kind: 'ids', ids: prompt.input_ids.slice(0, 2) }, greedy(1));
      }
      assert.ok(incremental.prefilledAhead > 0, 'part of the prompt was prefilled ahead');
      const rows = { streamed: [] as Float32Array[], whole: [] as Float32Array[] };
      const streamed = await incremental.start([{ text: words[words.length - 1], markup: false }], greedy(8), { onLogits: (row) => rows.streamed.push(row.slice()) });
      const whole = await run(engine, { kind: 'text', text: prompt.text }, greedy(8), { onLogits: (row) => rows.whole.push(row.slice()) });
      assert.deepEqual(streamed.tokenIds, whole.tokenIds);
      rows.whole.forEach((row, step) => assert.equal(maxAbsDiff(rows.streamed[step], row), 0, `step ${step}: logits of the streamed prompt equal the whole prompt's`));
    });
  });
}
