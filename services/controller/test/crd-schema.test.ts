// The CRD in k8s/base/crd/ and the TypeScript API types describe the same fields, the defaults agree,
// and k8s/base/controller/rbac.yaml is rendered from the permissions the code declares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LoraSpec, PodTemplateSpec, RetrySpec, RunSpec, RunStatus, StageSpec, StageStatus } from '../src/types.ts';
import { DEFAULT_COMMAND, DEFAULT_START_TIMEOUT_SECONDS, DEFAULT_LORA, DEFAULT_MAX_STEPS, DEFAULT_OUTPUT_URI, DEFAULT_RETRY, MAX_STAGES } from '../src/defaults.ts';
import { RunPhase, StagePhase } from '../src/types.ts';
import { RBAC_FILE, renderRbac } from '../../../scripts/k8s/render-rbac.ts';

const crd = parse(readFileSync(new URL('../../../k8s/base/crd/stacktrainingruns.fslm.dev.yaml', import.meta.url), 'utf8'));
const schema = crd.spec.versions[0].schema.openAPIV3Schema.properties;
const props = (o: any) => Object.keys(o.properties).sort();
// Records keyed by every field of each type: the compiler flags a field added to one side only.
const keys = <T>(r: Record<keyof T, true>) => Object.keys(r).sort();

test('spec fields match types.ts', { timeout: 30_000 }, () => {
  const spec = schema.spec;
  assert.deepEqual(props(spec), keys<RunSpec>({ stages: true, template: true, retry: true, activeDeadlineSeconds: true, startTimeoutSeconds: true, suspend: true, ttlSecondsAfterFinished: true, output: true, stack: true, rollout: true }));
  assert.deepEqual(props(spec.properties.stages.items), keys<StageSpec>({ name: true, dependsOn: true, baseModel: true, dataset: true, lora: true, maxSteps: true, image: true, command: true, args: true, env: true, resources: true, output: true, activeDeadlineSeconds: true }));
  assert.deepEqual(props(spec.properties.template), keys<PodTemplateSpec>({ image: true, imagePullPolicy: true, command: true, args: true, env: true, resources: true, nodeSelector: true, tolerations: true, serviceAccountName: true, labels: true, annotations: true, volumes: true, volumeMounts: true, envFrom: true, securityContext: true }));
  assert.deepEqual(props(spec.properties.retry), keys<RetrySpec>({ limit: true, backoffSeconds: true, maxBackoffSeconds: true, nonRetryableExitCodes: true }));
  assert.deepEqual(props(spec.properties.stages.items.properties.lora), keys<LoraSpec>({ rank: true, alpha: true, dropout: true, targetModules: true }));
});

test('status fields and phases match types.ts', { timeout: 30_000 }, () => {
  const status = schema.status;
  assert.deepEqual(props(status), keys<RunStatus>({ observedGeneration: true, phase: true, progress: true, startTime: true, completionTime: true, reason: true, message: true, conditions: true, stages: true, traceparent: true, traced: true, rollout: true }));
  assert.deepEqual(props(status.properties.stages.items), keys<StageStatus>({ name: true, phase: true, attempts: true, job: true, pod: true, node: true, startTime: true, finishTime: true, nextAttemptTime: true, lastExitCode: true, reason: true, message: true, outputs: true, progress: true, metrics: true, spanId: true, traced: true }));
  assert.deepEqual(status.properties.phase.enum, Object.values(RunPhase));
  assert.deepEqual(status.properties.stages.items.properties.phase.enum, Object.values(StagePhase));
});

test('CRD defaults agree with defaults.ts', { timeout: 30_000 }, () => {
  const s = schema.spec.properties;
  const lora = s.stages.items.properties.lora.properties;
  assert.deepEqual({ rank: lora.rank.default, alpha: lora.alpha.default, dropout: lora.dropout.default, targetModules: lora.targetModules.default }, DEFAULT_LORA);
  const r = s.retry.properties;
  assert.deepEqual({ limit: r.limit.default, backoffSeconds: r.backoffSeconds.default, maxBackoffSeconds: r.maxBackoffSeconds.default, nonRetryableExitCodes: r.nonRetryableExitCodes.default }, DEFAULT_RETRY);
  assert.deepEqual(s.template.properties.command.default, DEFAULT_COMMAND);
  assert.equal(s.output.properties.uri.default, DEFAULT_OUTPUT_URI);
  assert.equal(s.startTimeoutSeconds.default, DEFAULT_START_TIMEOUT_SECONDS);
  assert.equal(s.stages.items.properties.maxSteps.default, DEFAULT_MAX_STEPS);
  assert.equal(s.stages.maxItems, MAX_STAGES);
});

test('printer columns show phase, progress and age; short name str', { timeout: 30_000 }, () => {
  const v = crd.spec.versions[0];
  assert.deepEqual(v.additionalPrinterColumns.filter((c: any) => !c.priority).map((c: any) => [c.name, c.jsonPath]),
    [['Phase', '.status.phase'], ['Progress', '.status.progress'], ['Age', '.metadata.creationTimestamp']]);
  assert.deepEqual(crd.spec.names.shortNames, ['str']);
  assert.deepEqual(v.subresources, { status: {} });
});

test('k8s/base/controller/rbac.yaml is rendered from permissions.ts', { timeout: 30_000 }, () => {
  assert.equal(readFileSync(RBAC_FILE, 'utf8'), renderRbac(), 'run: node --import tsx scripts/k8s/render-rbac.ts');
});
