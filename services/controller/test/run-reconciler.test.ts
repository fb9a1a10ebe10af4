import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpanRecord } from '../src/run-spans.ts';
import { RunReconciler } from '../src/run-reconciler.ts';
import { ClusterFake } from './support/cluster-fake.ts';
import { RunBuilder, at, job, pod, stage } from './support/builders.ts';

function setup(run = new RunBuilder().build(), now = at(100)) {
  const cluster = new ClusterFake();
  cluster.put(run);
  const spans: SpanRecord[] = [];
  let clock = now;
  const r = new RunReconciler({ cluster, identity: 'replica-a', now: () => clock, spans: { export: (s) => spans.push(...s) } });
  return { cluster, spans, r, key: `${run.metadata.namespace}/${run.metadata.name}`, tick: (d: Date) => (clock = d) };
}

test('reconcile creates the ready stage Job and records Running', { timeout: 30_000 }, async () => {
  const { cluster, r, key } = setup();
  await r.reconcile(key);
  assert.deepEqual([...cluster.jobs.keys()], ['demo-a-1']);
  const st = cluster.getRun('ns', 'demo')!.status!;
  assert.equal(st.phase, 'Running');
  assert.equal(st.progress, '0/2');
  assert.deepEqual(st.stages?.map((s) => [s.name, s.phase, s.attempts, s.job]), [['a', 'Running', 1, 'demo-a-1'], ['b', 'Pending', 0, undefined]]);
  assert.match(st.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test('reconciling again with nothing new writes nothing and creates no duplicate', { timeout: 30_000 }, async () => {
  const { cluster, r, key } = setup();
  await r.reconcile(key);
  await r.reconcile(key); // sees the new Job: the stage's startTime (server time) appears
  const writes = cluster.statusWrites;
  await r.reconcile(key);
  await r.reconcile(key);
  assert.equal(cluster.jobs.size, 1);
  assert.equal(cluster.statusWrites, writes);
});

test('a stale cache (Job created, informer not caught up) is harmless: creation is by name', { timeout: 30_000 }, async () => {
  const { cluster, r, key } = setup();
  await r.reconcile(key);
  // Forget the status write, as a restarted controller reading an old copy would.
  const run = cluster.getRun('ns', 'demo')!;
  delete run.status;
  cluster.put(run);
  await r.reconcile(key);
  assert.equal(cluster.jobs.size, 1);
  assert.equal(cluster.createCalls, 1, 'the Job was already in the cache, so not even a create call');
  // Now the Job cache lags too: the create is sent again, and the server's "exists" makes it a no-op.
  const job = cluster.jobs.get('demo-a-1');
  cluster.hideJobsNext = true;
  await r.reconcile(key);
  assert.equal(cluster.createCalls, 2, 'the create went to the server');
  assert.deepEqual([...cluster.jobs.keys()], ['demo-a-1']);
  assert.equal(cluster.jobs.get('demo-a-1'), job, 'the existing Job is left as it was');
  assert.equal(cluster.getRun('ns', 'demo')!.status?.stages?.[0].job, 'demo-a-1');
});

test('a conflict on the status write is retried soon, quietly', { timeout: 30_000 }, async () => {
  const { cluster, r, key } = setup();
  cluster.conflictNext = true;
  const out = await r.reconcile(key);
  assert.equal(out.requeueAfterMs, 200);
  await r.reconcile(key);
  assert.equal(cluster.getRun('ns', 'demo')!.status?.phase, 'Running');
});

test('a finished stage gets its outputs, progress, metrics, and exactly one span', { timeout: 30_000 }, async () => {
  const { cluster, r, key, spans } = setup();
  const run = cluster.getRun('ns', 'demo')!;
  const done = job(run, 'a', 1, 'succeeded', { created: 10, finished: 40 });
  cluster.jobs.set('demo-a-1', done);
  cluster.pods = [pod(done, { exitCode: 0, progress: { step: 500, total: 500, loss: 0.8 }, message: '{"eval_loss":0.91}', node: 'gpu-3' })];
  await r.reconcile(key);
  await r.reconcile(key);
  const a = cluster.getRun('ns', 'demo')!.status!.stages![0];
  assert.equal(a.phase, 'Succeeded');
  assert.equal(a.node, 'gpu-3');
  assert.deepEqual(a.outputs, { model: 'file:///models/demo/a' });
  assert.deepEqual(a.progress, { step: 500, total: 500, loss: 0.8 });
  assert.deepEqual(a.metrics, { eval_loss: 0.91 });
  assert.equal(a.traced, true);
  assert.equal(spans.length, 1);
  assert.deepEqual([spans[0].start, spans[0].end], [at(10), at(40)]);
  assert.equal(spans[0].spanId, a.spanId);
  assert.ok(cluster.jobs.has('demo-b-1'), 'the next stage started');
});

test('a restarted controller does not export a stage span again', { timeout: 30_000 }, async () => {
  const first = setup();
  const run = first.cluster.getRun('ns', 'demo')!;
  first.cluster.jobs.set('demo-a-1', job(run, 'a', 1, 'succeeded', { created: 10, finished: 40 }));
  await first.r.reconcile(first.key);
  const second = new RunReconciler({ cluster: first.cluster, identity: 'replica-b', now: () => at(101), spans: { export: (s) => first.spans.push(...s) } });
  await second.reconcile(first.key);
  assert.equal(first.spans.filter((s) => s.stage === 'a').length, 1);
});

test('failed attempts are retried after their backoff, then the run fails with a reason', { timeout: 30_000 }, async () => {
  const { cluster, r, key, tick } = setup(new RunBuilder('demo', [stage('a')]).spec({ retry: { limit: 1, backoffSeconds: 10, maxBackoffSeconds: 60 } }).build());
  const run = cluster.getRun('ns', 'demo')!;
  cluster.jobs.set('demo-a-1', job(run, 'a', 1, 'failed', { created: 80, finished: 95 }));
  const out = await r.reconcile(key);
  assert.equal(cluster.getRun('ns', 'demo')!.status!.stages![0].phase, 'Retrying');
  assert.ok(out.requeueAfterMs! > 4000 && out.requeueAfterMs! <= 5100, String(out.requeueAfterMs));
  tick(at(106));
  await r.reconcile(key);
  assert.ok(cluster.jobs.has('demo-a-2'));
  cluster.jobs.set('demo-a-2', job(run, 'a', 2, 'failed', { created: 106, finished: 110 }));
  tick(at(111));
  await r.reconcile(key);
  const st = cluster.getRun('ns', 'demo')!.status!;
  assert.equal(st.phase, 'Failed');
  assert.equal(st.reason, 'StageFailed');
  assert.equal(st.conditions?.find((c) => c.type === 'Failed')?.status, 'True');
  assert.equal(cluster.jobs.size, 2);
});

test('suspend suspends the running Job; TTL deletes the finished run', { timeout: 30_000 }, async () => {
  const { cluster, r, key, tick } = setup(new RunBuilder('demo', [stage('a')]).spec({ suspend: true, ttlSecondsAfterFinished: 30 }).build());
  const run = cluster.getRun('ns', 'demo')!;
  cluster.jobs.set('demo-a-1', job(run, 'a', 1, 'active', { created: 50 }));
  await r.reconcile(key);
  assert.deepEqual(cluster.suspended, [{ name: 'demo-a-1', suspend: true }]);
  assert.equal(cluster.getRun('ns', 'demo')!.status!.phase, 'Suspended');
  const resumed = cluster.getRun('ns', 'demo')!;
  resumed.spec.suspend = false;
  cluster.put(resumed);
  cluster.jobs.set('demo-a-1', job(run, 'a', 1, 'succeeded', { created: 50, finished: 90 }));
  const out = await r.reconcile(key);
  assert.equal(cluster.getRun('ns', 'demo')!.status!.phase, 'Succeeded');
  assert.ok(out.requeueAfterMs! > 0);
  tick(at(200));
  await r.reconcile(key);
  assert.deepEqual(cluster.deleted, ['demo']);
});

test('a succeeded run sets the model of one Stack stage, once', { timeout: 30_000 }, async () => {
  const { cluster, r, key } = setup(new RunBuilder('demo', [stage('a')]).spec({ rollout: { stage: 'a', target: { stack: 'serving', stage: 'final' } } }).build());
  cluster.stacks.set('ns/serving', { stages: ['first', 'final'], models: {} });
  const run = cluster.getRun('ns', 'demo')!;
  cluster.jobs.set('demo-a-1', job(run, 'a', 1, 'succeeded', { created: 10, finished: 40 }));
  await r.reconcile(key);
  cluster.stacks.get('ns/serving')!.models = {};
  await r.reconcile(key);
  assert.deepEqual(cluster.stacks.get('ns/serving')!.models, {}, 'the rollout is applied once');
  const ro = cluster.getRun('ns', 'demo')!.status!.rollout!;
  assert.equal(ro.phase, 'Succeeded');
  assert.equal(ro.target, 'Stack/ns/serving stage final');
  assert.equal(ro.model, 'file:///models/demo/a');
});

test('a rollout to a Stack or stage that does not exist fails with a message, the run still succeeds', async () => {
  const { cluster, r, key } = setup(new RunBuilder('demo', [stage('a')]).spec({ rollout: { stage: 'a', target: { stack: 'serving' } } }).build());
  cluster.stacks.set('ns/serving', { stages: ['first', 'final'], models: {} });
  cluster.jobs.set('demo-a-1', job(cluster.getRun('ns', 'demo')!, 'a', 1, 'succeeded', { created: 10, finished: 40 }));
  await r.reconcile(key);
  const done = cluster.getRun('ns', 'demo')!.status!;
  assert.equal(done.phase, 'Succeeded');
  assert.equal(done.rollout!.phase, 'Failed');
  assert.match(done.rollout!.message!, /has no stage "a" \(its stages: first, final\)/);
  assert.deepEqual(cluster.stacks.get('ns/serving')!.models, {});
});

test('a run that is gone or being deleted is left alone', { timeout: 30_000 }, async () => {
  const { cluster, r } = setup();
  assert.deepEqual(await r.reconcile('ns/missing'), {});
  assert.equal(cluster.jobs.size, 0);

  const deleting = new RunBuilder('going').build();
  deleting.metadata.deletionTimestamp = at(90).toISOString();
  cluster.put(deleting);
  assert.deepEqual(await r.reconcile('ns/going'), {});
  assert.equal(cluster.createCalls, 0);
  assert.equal(cluster.statusWrites, 0);
  assert.equal(cluster.jobs.size, 0);
  assert.equal(cluster.getRun('ns', 'going')!.status, undefined);
});

test('a stage whose Job cannot create its pod shows why, then fails after the start timeout and stays failed', async () => {
  const { cluster, r, key, tick } = setup(new RunBuilder('demo', [stage('a')]).spec({ startTimeoutSeconds: 30 }).build(), at(0));
  await r.reconcile(key);
  const j = cluster.jobs.get('demo-a-1')!;
  j.metadata!.creationTimestamp = at(0); // the server's time of creation, on the test's clock
  cluster.events = [{ metadata: { name: 'e' }, involvedObject: { kind: 'Job', name: 'demo-a-1', uid: j.metadata!.uid }, reason: 'FailedCreate',
    message: 'Error creating: pods "demo-a-1-" is forbidden: error looking up service account ns/fslm-trainer: serviceaccount "fslm-trainer" not found' }];
  tick(at(5));
  await r.reconcile(key);
  const running = cluster.getRun('ns', 'demo')!.status!;
  assert.deepEqual([running.phase, running.stages![0].phase, running.stages![0].reason], ['Running', 'Running', 'FailedCreate']);
  assert.match(running.stages![0].message!, /serviceaccount "fslm-trainer" not found/);
  const out = await r.reconcile(key);
  assert.ok(out.requeueAfterMs! > 0 && out.requeueAfterMs! <= 31_000, 'it looks again when the start timeout passes');
  tick(at(31));
  await r.reconcile(key);
  assert.deepEqual(cluster.suspended, [{ name: 'demo-a-1', suspend: true }]);
  for (let i = 0; i < 2; i++) {
    const failed = cluster.getRun('ns', 'demo')!.status!;
    assert.deepEqual([failed.phase, failed.reason, failed.stages![0].phase, failed.stages![0].reason], ['Failed', 'StageFailed', 'Failed', 'FailedCreate']);
    assert.match(failed.stages![0].message!, /^attempt 1 did not start within 30s: Error creating/);
    tick(at(40 + i));
    await r.reconcile(key); // the Job is suspended now: the stage keeps its verdict
  }
});
