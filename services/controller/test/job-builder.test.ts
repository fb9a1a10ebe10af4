import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildJob, jobName } from '../src/job-builder.ts';
import { resolveSpec } from '../src/defaults.ts';
import { formatTraceparent, runTraceIds, stageSpanId } from '../src/trace-context.ts';
import { RunBuilder, stage } from './support/builders.ts';

function build(patch = {}, attempt = 1) {
  const run = new RunBuilder('pythia', [stage('understand', [], { lora: { rank: 16, alpha: 32, dropout: 0.1, targetModules: ['q', 'v'] }, maxSteps: 200, env: [{ name: 'HF_HOME', value: '/cache' }, { name: 'FSLM_STAGE', value: 'spoofed' }] })])
    .spec({ template: { image: 'trainer:1', nodeSelector: { gpu: 'h100' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }, ...patch }).build();
  const spec = resolveSpec(run.spec, run.metadata.name);
  return { run, job: buildJob(run, spec, spec.stages[0], { attempt, suspend: false, createdBy: 'replica-a', deadlineSeconds: 120 }) };
}

test('jobName is <run>-<stage>-<attempt>, and stays a valid label value when long', { timeout: 30_000 }, () => {
  assert.equal(jobName('pythia', 'understand', 3), 'pythia-understand-3');
  const long = jobName('r'.repeat(50), 's'.repeat(40), 12);
  assert.ok(long.length <= 63, long);
  assert.match(long, /^r+-[0-9a-f]{8}-12$/);
  assert.equal(long, jobName('r'.repeat(50), 's'.repeat(40), 12));
});

test('the Job is owned by the run, labelled, and runs its pod once', { timeout: 30_000 }, () => {
  const { run, job } = build();
  assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: 'fslm.dev/v1alpha1', kind: 'StackTrainingRun', name: 'pythia', uid: run.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(job.metadata?.labels?.['fslm.dev/stage'], 'understand');
  assert.equal(job.spec?.template.metadata?.labels?.['fslm.dev/run'], 'pythia');
  assert.equal(job.spec?.backoffLimit, 0);
  assert.equal(job.spec?.activeDeadlineSeconds, 120);
  assert.equal(job.spec?.template.spec?.restartPolicy, 'Never');
  assert.equal(job.metadata?.annotations?.['fslm.dev/created-by'], 'replica-a');
});

test('the pod failure policy fails fast on non-retryable codes and ignores disruptions', { timeout: 30_000 }, () => {
  const { job } = build({ retry: { nonRetryableExitCodes: [42] } });
  assert.deepEqual(job.spec?.podFailurePolicy?.rules, [
    { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [2, 42] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
  ]);
});

test('GPU resources and placement come from the template', { timeout: 30_000 }, () => {
  const { job } = build();
  const pod = job.spec!.template.spec!;
  assert.deepEqual(pod.containers[0].resources?.limits, { 'nvidia.com/gpu': '1' });
  assert.deepEqual(pod.nodeSelector, { gpu: 'h100' });
  assert.equal(pod.tolerations?.[0].key, 'nvidia.com/gpu');
  assert.deepEqual(pod.containers[0].command, ['fslm-trainer', 'stage-job']);
});

test('the environment follows the trainer contract, and user env cannot override it', { timeout: 30_000 }, () => {
  const { run, job } = build();
  const env = Object.fromEntries(job.spec!.template.spec!.containers[0].env!.map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
  assert.deepEqual(env, {
    HF_HOME: '/cache',
    FSLM_RUN: 'pythia', FSLM_NAMESPACE: 'ns', FSLM_STAGE: 'understand', FSLM_BASE_MODEL: 'EleutherAI/pythia-160m',
    FSLM_DATASET: 'file:///data/understand.jsonl', FSLM_OUTPUT: 'file:///models/pythia/understand',
    FSLM_LORA_RANK: '16', FSLM_LORA_ALPHA: '32', FSLM_LORA_DROPOUT: '0.1', FSLM_LORA_TARGETS: 'q,v', FSLM_MAX_STEPS: '200',
    TRACEPARENT: env.TRACEPARENT, POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace',
  });
  assert.equal(env.TRACEPARENT, formatTraceparent(runTraceIds(run.metadata.uid).traceId, stageSpanId(run.metadata.uid, 'understand')),
    "the run's trace, with the stage span as parent");
  assert.equal(job.metadata?.annotations?.['fslm.dev/traceparent'], env.TRACEPARENT);
  assert.equal(build().job.spec!.template.spec!.containers[0].env!.find((e) => e.name === 'TRACEPARENT')!.value, env.TRACEPARENT, 'stable across builds');
});

test('spec.stack reaches the trainer as FSLM_STACK with FSLM_STAGE (the same contract as a local run); without it there is none', { timeout: 30_000 }, () => {
  const envOf = (patch: object) => new Map(build(patch).job.spec!.template.spec!.containers[0].env!.map((e) => [e.name, e.value]));
  const env = envOf({ stack: 'file:///data/stacks/default.yaml' });
  assert.equal(env.get('FSLM_STACK'), 'file:///data/stacks/default.yaml');
  assert.equal(env.get('FSLM_STAGE'), 'understand');
  assert.equal(envOf({}).has('FSLM_STACK'), false);
});

test('a stage without any image is refused', { timeout: 30_000 }, () => {
  const run = new RunBuilder('x', [stage('a')]).spec({ template: {} }).build();
  const spec = resolveSpec(run.spec, 'x');
  assert.throws(() => buildJob(run, spec, spec.stages[0], { attempt: 1, suspend: false, createdBy: 'me' }), /no image/);
});

test('the pod template carries the run template\'s volumes, mounts, envFrom and securityContext', () => {
  const run = new RunBuilder('demo', [stage('a')]).spec({ template: {
    image: 'trainer:1',
    volumes: [{ name: 'models', persistentVolumeClaim: { claimName: 'fslm-models' } }],
    volumeMounts: [{ name: 'models', mountPath: '/models' }],
    envFrom: [{ secretRef: { name: 's3' } }],
    securityContext: { runAsNonRoot: true, fsGroup: 10001 },
  } }).build();
  const spec = buildJob(run, resolveSpec(run.spec, 'demo'), resolveSpec(run.spec, 'demo').stages[0], { attempt: 1, suspend: false, createdBy: 'me' }).spec!.template.spec!;
  assert.deepEqual(spec.volumes, [{ name: 'models', persistentVolumeClaim: { claimName: 'fslm-models' } }]);
  assert.deepEqual(spec.securityContext, { runAsNonRoot: true, fsGroup: 10001 });
  assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'models', mountPath: '/models' }]);
  assert.deepEqual(spec.containers[0].envFrom, [{ secretRef: { name: 's3' } }]);
});
