// `fslm train --local` with OpenTelemetry configured exports the run's span tree to a real OTLP
// receiver (an OpenTelemetry Collector process): the root span and one span per stage, with the ids
// its status and the stages' TRACEPARENT carry, and the real trainer's spans under its stage.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startCollector, type Collector } from '../stack/support/otel-collector.ts';
import { testModels } from '../support/models.ts';
import { LocalRunBuilder, fslm, readRun, stageOf, tempDir, writeDataset } from './support/local-run.ts';

let dir: string;
let collector: Collector;
before(async () => {
  dir = tempDir('local-tracing');
  writeDataset(dir, 't');
  collector = await startCollector();
}, { timeout: 120_000 });
after(async () => {
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

test('a local run exports its root span and a span per stage, parents of the stages\' TRACEPARENT', { timeout: 300_000 }, async () => {
  // Each stage records the TRACEPARENT it was given.
  const script = `require('fs').writeFileSync(require('path').join(process.env.OUT, process.env.FSLM_STAGE + '.traceparent'), process.env.TRACEPARENT)`;
  const stage = { baseModel: 'none', dataset: 'none.jsonl', command: [process.execPath, '-e', script], env: [{ name: 'OUT', value: dir }] };
  const file = new LocalRunBuilder('traced').stage('p', stage).stage('q', { ...stage, dependsOn: ['p'] })
    .stage('t', { baseModel: testModels('tiny').tiny, dependsOn: ['p'], maxSteps: 2, lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['all-linear'] } })
    .write(dir);
  const state = path.join(dir, 'state');
  const res = await fslm(['train', '--local', file, '--state-dir', state], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint }, timeoutMs: 240_000 });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /exported 4 span\(s\)/);

  const run = readRun(state, 'traced');
  const [, traceId, rootSpanId] = run.status!.traceparent!.split('-');
  const spans = await collector.waitFor((all) => all.filter((s) => s.traceId === traceId && s.service === 'fslm-train').length >= 4
    && all.some((s) => s.traceId === traceId && s.name === 'fslm.trainer.finetune'));
  const ofRun = spans.filter((s) => s.traceId === traceId);
  const root = ofRun.find((s) => s.spanId === rootSpanId)!;
  assert.ok(root, 'the root span has the id in status.traceparent');
  assert.equal(root.name, 'training run');
  assert.equal(root.service, 'fslm-train');
  assert.equal(root.parentSpanId, '');
  assert.equal(root.attributes['fslm.run.phase'], 'Succeeded');
  for (const name of ['p', 'q']) {
    const st = stageOf(run, name);
    const span = ofRun.find((s) => s.name === `stage ${name}`)!;
    assert.ok(span, `a span for stage ${name}`);
    assert.equal(span.spanId, st.spanId);
    assert.equal(span.parentSpanId, rootSpanId);
    assert.equal(span.attributes['fslm.stage.phase'], 'Succeeded');
    assert.equal(span.attributes['fslm.stage.attempts'], 1);
    const given = readFileSync(path.join(dir, `${name}.traceparent`), 'utf8');
    assert.equal(given, `00-${traceId}-${st.spanId}-01`, 'the stage process was given its span as parent');
  }
  // The real trainer's spans hang under its stage's span.
  const trained = ofRun.find((s) => s.name === 'stage t')!;
  assert.equal(trained.spanId, stageOf(run, 't').spanId);
  const finetune = ofRun.find((s) => s.name === 'fslm.trainer.finetune')!;
  assert.equal(finetune.service, 'fslm-trainer');
  assert.equal(finetune.parentSpanId, trained.spanId);
  for (const phase of ['fslm.trainer.train', 'fslm.trainer.export']) {
    assert.equal(ofRun.find((s) => s.name === phase)?.parentSpanId, finetune.spanId, `${phase} under finetune`);
  }
});
