// A training run end to end on the real control plane, driven with kubectl as a user would: the
// controller (under its own RBAC) creates one Job per stage in dependency order on GPU nodes, KWOK
// runs them, and the run reports progress, the trainer's metrics, spans and Prometheus metrics.
// The file starts its own control plane and controller; each test applies the runs it checks, so any
// test runs alone or in any order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { stopChild, track } from '../support/children.ts';
import { waitFor } from '../support/wait.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { K8S_BEFORE_TIMEOUT_MS, SKIP_K8S, TestEnv, getRun, installFslm, waitForPhase } from './support/testenv.ts';
import { modelStore } from '../k8s/support/serving.ts';

let env: TestEnv;
let controller: ControllerProcess;
let metricsAddress: string;
let otlp: Server;
const otlpBodies: Buffer[] = [];

before(async () => {
  if (SKIP_K8S) return;
  env = await TestEnv.start('lifecycle');
  await installFslm(env);
  otlp = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      otlpBodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
  controller = ControllerProcess.start({
    kubeconfig: env.controllerKubeconfig, identity: 'ctl-a', metrics: true,
    otlpUrl: `http://127.0.0.1:${(otlp.address() as { port: number }).port}/v1/traces`,
  });
  metricsAddress = String((await controller.waitForLog('starting')).metrics);
  await controller.waitForLog('caches synced; reconciling');
}, { timeout: K8S_BEFORE_TIMEOUT_MS });
after(async () => {
  await controller?.kill();
  otlp?.close();
  await env?.stop();
}, { timeout: 120_000 });
const K8S = { skip: SKIP_K8S, timeout: 240_000 };

/** A run of `stages` (name:dependency) that KWOK completes on GPU nodes at once. */
const applyRun = (name: string, stages: string[]) => env.kubectl(['apply', '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: ${name}}
spec:
  template:
    image: trainer:1
    nodeSelector: {fslm.dev/gpu-node: "true"}
    tolerations: [{key: nvidia.com/gpu, operator: Exists}]
  stages:
${stages.map((st) => { const [n, dep] = st.split(':'); return `  - {name: ${n}, baseModel: m, dataset: d, dependsOn: [${dep ?? ''}]}`; }).join('\n')}
` });

test('the example run: Jobs in dependency order on GPU nodes, Succeeded with 4/4 in kubectl get', K8S, async () => {
  // Watch the run's Jobs from the resourceVersion of an (empty) list taken before the run exists: the
  // API server then sends every change after that list, in its order, however late the watch connects.
  // (The API server's own list: kubectl get -o json rebuilds a list without its resourceVersion.)
  const jobsPath = `/apis/batch/v1/namespaces/default/jobs?labelSelector=${encodeURIComponent('fslm.dev/run=pythia-4x160m')}`;
  const listed = JSON.parse((await env.kubectl(['get', '--raw', jobsPath])).stdout);
  assert.equal(listed.items.length, 0);
  assert.ok(listed.metadata.resourceVersion, 'the list has a resourceVersion to watch from');
  const events: { job: string; stage: string; succeeded: boolean }[] = [];
  const watch = track(spawn('kubectl', ['--kubeconfig', env.kubeconfig, 'get', '--raw', `${jobsPath}&watch=1&resourceVersion=${listed.metadata.resourceVersion}`],
    { stdio: ['ignore', 'pipe', 'pipe'] }));
  let watchErr = '';
  watch.stderr.on('data', (d) => (watchErr += d));
  let buf = '';
  watch.stdout.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines.filter(Boolean)) {
      const { object } = JSON.parse(l);
      events.push({ job: object.metadata.name, stage: object.metadata.labels['fslm.dev/stage'], succeeded: object.status?.succeeded === 1 });
    }
  });
  let done;
  try {
    await env.kubectl(['apply', '-f', 'k8s/examples/trainer-rbac.yaml']);
    await modelStore(env, 'default'); // the example mounts the data and model claims
    await env.kubectl(['apply', '-f', 'k8s/examples/stacktrainingrun.yaml']);
    done = await waitForPhase(env, 'pythia-4x160m', ['Succeeded', 'Failed'], 90_000);
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    // The watch has seen every Job succeed too.
    await waitFor(() => new Set(events.filter((e) => e.succeeded).map((e) => e.job)).size === 4,
      { what: 'the watch to see four Jobs succeed', timeoutMs: 30_000 })
      .catch((e: Error) => { throw new Error(`${e.message}; kubectl's stderr: ${watchErr}`); });
  } finally {
    await stopChild(watch, { graceMs: 5000 });
  }
  assert.equal(done.status.progress, '4/4');

  const deps: Record<string, string[]> = { understand: [], keywords: ['understand'], answer: ['keywords'], final: ['understand', 'answer'] };
  const firstSeen = (stage: string) => events.findIndex((e) => e.stage === stage);
  const firstDone = (stage: string) => events.findIndex((e) => e.stage === stage && e.succeeded);
  for (const [stage, ds] of Object.entries(deps)) {
    assert.ok(firstSeen(stage) >= 0, `no Job seen for ${stage}`);
    for (const d of ds) {
      assert.ok(firstDone(d) >= 0, `${d} never seen succeeded: ${JSON.stringify(events)}`);
      assert.ok(firstDone(d) < firstSeen(stage), `${stage}'s Job appeared before ${d} succeeded: ${JSON.stringify(events)}`);
    }
  }
  assert.deepEqual([...new Set(events.map((e) => e.job))].sort(),
    ['pythia-4x160m-answer-1', 'pythia-4x160m-final-1', 'pythia-4x160m-keywords-1', 'pythia-4x160m-understand-1']);

  const pods = (await env.json(['get', 'pods', '-l', 'fslm.dev/run=pythia-4x160m'])).items;
  assert.equal(pods.length, 4);
  for (const p of pods) {
    assert.match(p.spec.nodeName, /^kwok-gpu-\d$/, 'placed on a GPU node');
    assert.equal(p.spec.containers[0].resources.limits['nvidia.com/gpu'], '1');
    assert.deepEqual(p.spec.nodeSelector, { 'fslm.dev/gpu-node': 'true' });
    assert.ok(p.spec.tolerations.some((t: any) => t.key === 'nvidia.com/gpu'));
    assert.equal(p.metadata.ownerReferences[0].kind, 'Job');
    assert.equal(p.spec.serviceAccountName, 'fslm-trainer');
    assert.deepEqual(p.spec.containers[0].volumeMounts.filter((m: any) => m.name !== 'kube-api-access' && !m.name.startsWith('kube-api-access')),
      [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'models', mountPath: '/models' }]);
    assert.equal(p.spec.securityContext.runAsNonRoot, true);
  }
  // The trainer may patch its own Pod's progress annotation, and no more than Pods.
  const trainer = ['--as', 'system:serviceaccount:default:fslm-trainer'];
  assert.equal((await env.kubectl(['auth', 'can-i', 'patch', 'pods', ...trainer])).stdout.trim(), 'yes');
  assert.equal((await env.kubectl(['auth', 'can-i', 'create', 'jobs', ...trainer], { allowFail: true })).stdout.trim(), 'no');
  for (const s of done.status.stages) {
    assert.equal(s.phase, 'Succeeded');
    assert.equal(s.attempts, 1);
    assert.equal(s.outputs.model, `file:///models/pythia-4x160m/${s.name}`);
    assert.match(s.node, /^kwok-gpu-/);
    assert.ok(Date.parse(s.finishTime) >= Date.parse(s.startTime));
  }
  const cond = Object.fromEntries(done.status.conditions.map((c: any) => [c.type, c.status]));
  assert.deepEqual(cond, { Created: 'True', Running: 'False', Suspended: 'False', Succeeded: 'True', Failed: 'False' });
  assert.equal(done.status.observedGeneration, done.metadata.generation);

  const table = (await env.kubectl(['get', 'str', 'pythia-4x160m'])).stdout;
  assert.match(table, /^NAME\s+PHASE\s+PROGRESS\s+AGE\npythia-4x160m\s+Succeeded\s+4\/4\s+\d+s\n$/);
  const wide = (await env.kubectl(['get', 'str', 'pythia-4x160m', '-o', 'wide'])).stdout;
  assert.match(wide, /REASON\s+MESSAGE[\s\S]*AllStagesSucceeded\s+all 4 stages succeeded/);
  const jobs = (await env.json(['get', 'jobs', '-l', 'fslm.dev/run=pythia-4x160m'])).items;
  assert.ok(jobs.every((j: any) => j.metadata.ownerReferences[0].name === 'pythia-4x160m' && j.metadata.ownerReferences[0].controller));
});

test('the trainer\'s progress annotation and final metrics reach the stage status; the model rolls out', K8S, async () => {
  // The Stack whose stage the run rolls out to; its pods ask for no GPU, so the run's Jobs keep theirs.
  await env.kubectl(['apply', '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: serve}
spec:
  defaults: {model: file:///models/base, resources: {requests: {cpu: 100m}}, tolerations: [], placement: {oneStagePerNode: false}}
  stages:
  - {name: first, template: '{input}'}
  - {name: final, template: '{stages.first}'}
` });
  await env.kubectl(['apply', '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: progress-demo}
spec:
  template:
    image: trainer:1
    annotations: {kwok.fslm.dev/hold: "true"}
    nodeSelector: {fslm.dev/gpu-node: "true"}
    tolerations: [{key: nvidia.com/gpu, operator: Exists}]
  stages:
  - {name: final, baseModel: EleutherAI/pythia-160m, dataset: file:///d.jsonl}
  rollout: {stage: final, target: {stack: serve}}
` });
  const podName = await waitFor(async () => {
    const pods = (await env.json(['get', 'pods', '-l', 'fslm.dev/run=progress-demo'])).items;
    return pods.find((p: any) => p.status.phase === 'Running')?.metadata.name as string | undefined;
  }, { what: 'the held pod to run', timeoutMs: 30_000 });
  await env.kubectl(['annotate', 'pod', podName, 'fslm.dev/progress={"step":120,"total":500,"loss":1.75,"eval_loss":1.9,"tokens_per_s":850.5,"eta_s":300}']);
  const running = await waitFor(async () => {
    const r = await getRun(env, 'progress-demo');
    return r.status?.stages?.[0]?.progress?.step === 120 ? r : undefined;
  }, { what: 'progress in status', timeoutMs: 30_000 });
  assert.deepEqual(running.status.stages[0].progress, { step: 120, total: 500, loss: 1.75, evalLoss: 1.9, tokensPerSecond: 850.5, etaSeconds: 300 });
  assert.equal(running.status.stages[0].pod, podName);
  assert.equal(running.status.phase, 'Running');
  assert.match((await env.kubectl(['get', 'str', 'progress-demo', '--no-headers'])).stdout, /progress-demo\s+Running\s+0\/1/);

  await env.kubectl(['annotate', 'pod', podName, 'kwok.fslm.dev/termination-message={"eval_loss":0.93,"train_loss":0.81,"steps":500}', 'kwok.fslm.dev/hold-']);
  const done = await waitForPhase(env, 'progress-demo', ['Succeeded', 'Failed']);
  assert.equal(done.status.phase, 'Succeeded');
  assert.deepEqual(done.status.stages[0].metrics, { eval_loss: 0.93, train_loss: 0.81, steps: 500 });
  assert.equal(done.status.rollout.phase, 'Succeeded');
  assert.equal(done.status.rollout.target, 'Stack/default/serve stage final');
  const stack = await env.json(['get', 'stack', 'serve']);
  assert.deepEqual(stack.spec.stages.map((s: any) => s.model), [undefined, 'file:///models/progress-demo/final'], 'only the final stage changed');
  const dep = await waitFor(async () => {
    const d = await env.json(['get', 'deployment', 'serve-final']);
    return d.spec.template.metadata.annotations['fslm.dev/model'] === 'file:///models/progress-demo/final' ? d : undefined;
  }, { what: 'the final stage Deployment to name the new model', timeoutMs: 30_000, intervalMs: 200 });
  assert.deepEqual(dep.spec.template.spec.initContainers[0].args, ['model', 'fetch', 'file:///models/progress-demo/final', '/var/lib/fslm/model', '--termination-message', '/dev/termination-log']);
  assert.equal((await env.json(['get', 'deployment', 'serve-first'])).spec.template.metadata.annotations['fslm.dev/model'], 'file:///models/base');
});

test('stage spans go out over OTLP with the ids the trainer was given', K8S, async () => {
  await applyRun('traced', ['first', 'second:first']);
  const run = await waitForPhase(env, 'traced', ['Succeeded', 'Failed'], 60_000);
  assert.equal(run.status.phase, 'Succeeded', JSON.stringify(run.status));
  const [, traceId, rootSpanId] = run.status.traceparent.split('-');
  const job = await env.json(['get', 'job', 'traced-second-1']);
  const tp = job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'TRACEPARENT').value;
  const second = run.status.stages.find((s: any) => s.name === 'second');
  assert.equal(tp, `00-${traceId}-${second.spanId}-01`);
  await waitFor(() => {
    const all = Buffer.concat(otlpBodies);
    return all.includes(Buffer.from(traceId, 'hex')) && all.includes(Buffer.from(rootSpanId, 'hex')) && all.includes('stage second');
  }, { what: 'OTLP export of the run', timeoutMs: 30_000 });
  const all = Buffer.concat(otlpBodies);
  for (const s of run.status.stages) {
    assert.ok(all.includes(Buffer.from(s.spanId, 'hex')), `span of ${s.name} exported`);
    assert.equal(s.traced, true);
  }
});

test('Prometheus metrics count Jobs and reconciles', K8S, async () => {
  const metrics = async () => (await fetch(`http://${metricsAddress}/metrics`)).text();
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };
  const SUCCEEDED_RUNS = 'fslm_controller_runs{phase="Succeeded"}';
  const SUCCEEDED_STAGES = 'fslm_controller_stage_duration_seconds_count{phase="Succeeded"}';
  const before = await metrics();
  await applyRun('metered', ['tally']);
  assert.equal((await waitForPhase(env, 'metered', ['Succeeded', 'Failed'], 60_000)).status.phase, 'Succeeded');
  // Counted as of this run, whatever other tests in this file did before.
  const text = await waitFor(async () => {
    const t = await metrics();
    return value(t, SUCCEEDED_RUNS) === value(before, SUCCEEDED_RUNS) + 1 && value(t, SUCCEEDED_STAGES) === value(before, SUCCEEDED_STAGES) + 1 && t;
  }, { what: 'the metered run in the metrics', timeoutMs: 30_000 });
  assert.match(text, /^fslm_controller_jobs_created_total\{stage="tally"\} 1$/m);
  assert.match(text, /^fslm_controller_is_leader 1$/m);
  assert.match(text, /^fslm_controller_reconciles_total\{result="ok",kind="StackTrainingRun"\} \d+$/m);
  assert.ok(value(text, 'fslm_controller_reconciles_total{result="ok",kind="StackTrainingRun"}') > value(before, 'fslm_controller_reconciles_total{result="ok",kind="StackTrainingRun"}'));
});
