// Why an attempt has not started: the Job's FailedCreate event, the pod's scheduling condition and
// its containers' waiting states (pod-reasons.ts), read into the attempt record.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { observeAttempt } from '../src/job-observation.ts';
import { podReason } from '../src/pod-reasons.ts';
import { job, pod, RunBuilder, stage } from './support/builders.ts';

const run = new RunBuilder('demo', [stage('a')]).build();

describe('attempt observation', { timeout: 30_000 }, () => {
test('a Job that cannot create its pod: the FailedCreate event is the reason', () => {
  const j = job(run, 'a', 1, 'active');
  const events: CoreV1Event[] = [
    { metadata: { name: 'e1' }, involvedObject: { kind: 'Job', name: j.metadata!.name, uid: j.metadata!.uid }, reason: 'FailedCreate', lastTimestamp: new Date(1000),
      message: 'Error creating: pods "demo-a-1-" is forbidden: error looking up service account ns/fslm-trainer: serviceaccount "fslm-trainer" not found' },
    { metadata: { name: 'e0' }, involvedObject: { kind: 'Job', name: 'other-job' }, reason: 'FailedCreate', message: 'not this one' },
  ];
  const { record } = observeAttempt(j, [], events);
  assert.equal(record.notStarted?.reason, 'FailedCreate');
  assert.match(record.notStarted!.message, /serviceaccount "fslm-trainer" not found/);
  assert.deepEqual(observeAttempt(j, [], []).record.notStarted?.reason, 'Starting');
});

test('a pod that cannot be scheduled or pulled says so; a running one has started', () => {
  const j = job(run, 'a', 1, 'active');
  const p = pod(j);
  const unschedulable: V1Pod = { ...p, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/5 nodes are available: 5 Insufficient nvidia.com/gpu.' }] } };
  assert.deepEqual(observeAttempt(j, [unschedulable]).record.notStarted?.reason, 'Unschedulable');
  const pulling: V1Pod = { ...p, status: { phase: 'Pending', containerStatuses: [{ name: 'trainer', image: 'x', imageID: '', ready: false, restartCount: 0,
    state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/fslm/trainer:nope"' } } }] } };
  const r = podReason(pulling)!;
  assert.deepEqual([r.reason, r.hard], ['ImagePullBackOff', true]);
  assert.match(observeAttempt(j, [pulling]).record.notStarted!.message, /container trainer: Back-off pulling image/);
  const running: V1Pod = { ...p, status: { phase: 'Running', containerStatuses: [{ name: 'trainer', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } };
  assert.equal(observeAttempt(j, [running]).record.notStarted, undefined);
});

test('a failed init step and a crash loop are hard failures with their exit codes', () => {
  const p = pod(job(run, 'a', 1, 'active'));
  const init: V1Pod = { ...p, status: { phase: 'Pending', initContainerStatuses: [{ name: 'fetch-model', image: 'x', imageID: '', ready: false, restartCount: 1,
    state: { terminated: { exitCode: 2, reason: 'Error', message: 'sha256 mismatch for decoder.onnx' } } }] } };
  assert.deepEqual(podReason(init), { reason: 'Error', hard: true, message: `pod ${p.metadata!.name} init container fetch-model exited with code 2: sha256 mismatch for decoder.onnx` });
  const crash: V1Pod = { ...p, status: { phase: 'Running', containerStatuses: [{ name: 'stage', image: 'x', imageID: '', ready: false, restartCount: 3,
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } }, lastState: { terminated: { exitCode: 1, message: 'cannot load model' } } }] } };
  assert.match(podReason(crash)!.message, /back-off 40s restarting failed container; last exit code 1: cannot load model/);
});
});
