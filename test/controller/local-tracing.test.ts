// `fslm train --local` with OpenTelemetry configured exports the run's span tree to a real OTLP
// receiver (an OpenTelemetry Collector process): the root span and one span per stage, with the ids
// its status and the stages' TRACEPARENT carry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startCollector, type Collector } from '../stack/support/otel-collector.ts';
import { LocalRunBuilder, fslm, readRun, stageOf, tempDir } from './support/local-run.ts';

let dir: string;
let collector: Collector;
before(async () => {
  dir = tempDir('local-tracing');
  collector = await startCollector();
});
after(async () => {
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a local run exports its root span and a span per stage, parents of the stages\' TRACEPARENT', { timeout: 120_000 }, async () => {
  // Each stage records the TRACEPARENT it was given.
  const script = `require('fs').writeFileSync(require('path').join(process.env.OUT, process.env.FSLM_STAGE + '.traceparent'), process.env.TRACEPARENT)`;
  const stage = { baseModel: 'none', dataset: 'none.jsonl', command: [process.execPath, '-e', script], env: [{ name: 'OUT', value: dir }] };
  const file = new LocalRunBuilder('traced').stage('p', stage).stage('q', { ...stage, dependsOn: ['p'] }).write(dir);
  const state = path.join(dir, 'state');
  const res = await fslm(['train', '--local', file, '--state-dir', state], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /exported 3 span\(s\)/);

  const run = readRun(state, 'traced');
  const [, traceId, rootSpanId] = run.status!.traceparent!.split('-');
  const spans = await collector.waitFor((all) => all.filter((s) => s.traceId === traceId).length >= 3);
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
});
