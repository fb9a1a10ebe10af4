import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_METRICS, MAX_REPORT_CHARS, parseMetrics, parseProgress } from '../src/trainer-report.ts';

test('parseProgress maps the trainer fields to status names and drops the rest', { timeout: 30_000 }, () => {
  const p = parseProgress(JSON.stringify({ step: 40, total: 500, loss: 1.234567891, eval_loss: 1.5, tokens_per_s: 812.5, eta_s: 60, junk: 'x', nested: { a: 1 } }));
  assert.deepEqual(p, { step: 40, total: 500, loss: 1.23457, evalLoss: 1.5, tokensPerSecond: 812.5, etaSeconds: 60 });
});

test('parseProgress ignores malformed, non-numeric and oversized input', { timeout: 30_000 }, () => {
  assert.equal(parseProgress(undefined), undefined);
  assert.equal(parseProgress('{not json'), undefined);
  assert.equal(parseProgress('[1,2]'), undefined);
  assert.equal(parseProgress(JSON.stringify({ step: 'ten' })), undefined);
  assert.equal(parseProgress(JSON.stringify({ step: 1, pad: 'x'.repeat(MAX_REPORT_CHARS) })), undefined);
});

test('parseMetrics keeps numbers, flattens one level of nesting and caps the count', { timeout: 30_000 }, () => {
  assert.deepEqual(parseMetrics('{"eval_loss":0.9,"eval":{"acc":0.5},"model":"x"}\n'), { eval_loss: 0.9, 'eval.acc': 0.5 });
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`m${i}`, i]));
  assert.equal(Object.keys(parseMetrics(JSON.stringify(many))!).length, MAX_METRICS);
  assert.equal(parseMetrics('Traceback (most recent call last): ...'), undefined);
});
