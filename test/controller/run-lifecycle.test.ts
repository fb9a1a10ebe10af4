// A training run end to end on the real control plane, driven with kubectl as a user would: the
// controller (under its own RBAC) creates one Job per stage in dependency order on GPU nodes, KWOK
// runs them, and the run reports progress, the trainer's metrics, spans and Prometheus metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { ControllerProcess } from './support/controller-process.ts';
import { freePort } from '../support/ports.ts';
import { SKIP_K8S, TestEnv, getRun, installFslm, waitFor, waitForPhase } from './support/testenv.ts';
import { modelStore } from '../k8s/support/serving.ts';

let env: TestEnv;
let controller: ControllerProcess;
let metricsPort: number;
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
  metricsPort = await freePort();
  controller = ControllerProcess.start({
    kubeconfig: env.controllerKubeconfig, identity: 'ctl-a', metricsPort,
    otlpUrl: `http://127.0.0.1:${(otlp.address() as { port: number }).port}/v1/traces`,
  });
  await controller.waitForLog('caches synced; reconciling');
});
after(async () => {
  await controller?.kill();
  otlp?.close();
  await env?.stop();
});

test('the example run: Jobs in dependency order on GPU nodes, Succeeded with 4/4 in kubectl get', { skip: SKIP_K8S }, async () => {
  // Watch the run's Jobs from before it exists; watch events arrive in the API server's order.
  const events: { job: string; stage: string; succeeded: boolean }[] = [];
  const watch = spawn('kubectl', ['--kubeconfig', env.kubeconfig, 'get', 'jobs', '-l', 'fslm.dev/run=pythia-4x160m', '-w',
    '-o', 'jsonpath={.metadata.name} {.metadata.labels.fslm\\.dev/stage} {.status.succeeded}{"\\n"}']);
  let buf = '';
  watch.stdout.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines.filter(Boolean)) {
      const [job, stage, succeeded] = l.split(' ');
      events.push({ job, stage, succeeded: succeeded === '1' });
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  await env.kubectl(['apply', '-f', 'k8s/examples/trainer-rbac.yaml']);
  await modelStore(env, 'default'); // the example mounts the data and model claims
  await env.kubectl(['apply', '-f', 'k8s/examples/stacktrainingrun.yaml']);
  const done = await waitForPhase(env, 'pythia-4x160m', ['Succeeded', 'Failed'], 90_000);
  watch.kill();
  assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
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

test('the trainer\'s progress annotation and final metrics reach the stage status; the model rolls out', { skip: SKIP_K8S }, async () => {
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
  const podName = await waitFor('the held pod to run', async () => {
    const pods = (await env.json(['get', 'pods', '-l', 'fslm.dev/run=progress-demo'])).items;
    return pods.find((p: any) => p.status.phase === 'Running')?.metadata.name as string | undefined;
  });
  await env.kubectl(['annotate', 'pod', podName, 'fslm.dev/progress={"step":120,"total":500,"loss":1.75,"eval_loss":1.9,"tokens_per_s":850.5,"eta_s":300}']);
  const running = await waitFor('progress in status', async () => {
    const r = await getRun(env, 'progress-demo');
    return r.status?.stages?.[0]?.progress?.step === 120 ? r : undefined;
  });
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
  const dep = await waitFor('the final stage Deployment to name the new model', async () => {
    const d = await env.json(['get', 'deployment', 'serve-final']);
    return d.spec.template.metadata.annotations['fslm.dev/model'] === 'file:///models/progress-demo/final' ? d : undefined;
  });
  assert.deepEqual(dep.spec.template.spec.initContainers[0].args, ['model', 'fetch', 'file:///models/progress-demo/final', '/var/lib/fslm/model']);
  assert.equal((await env.json(['get', 'deployment', 'serve-first'])).spec.template.metadata.annotations['fslm.dev/model'], 'file:///models/base');
});

test('stage spans go out over OTLP with the ids the trainer was given', { skip: SKIP_K8S }, async () => {
  const run = await getRun(env, 'pythia-4x160m');
  const [, traceId, rootSpanId] = run.status.traceparent.split('-');
  const job = await env.json(['get', 'job', 'pythia-4x160m-keywords-1']);
  const tp = job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'TRACEPARENT').value;
  const keywords = run.status.stages.find((s: any) => s.name === 'keywords');
  assert.equal(tp, `00-${traceId}-${keywords.spanId}-01`);
  await waitFor('OTLP export of the run', async () => {
    const all = Buffer.concat(otlpBodies);
    return all.includes(Buffer.from(traceId, 'hex')) && all.includes(Buffer.from(rootSpanId, 'hex')) && all.includes('stage final') || undefined;
  }, 15_000);
  const all = Buffer.concat(otlpBodies);
  for (const s of run.status.stages) {
    assert.ok(all.includes(Buffer.from(s.spanId, 'hex')), `span of ${s.name} exported`);
    assert.equal(s.traced, true);
  }
});

test('Prometheus metrics count Jobs and reconciles', { skip: SKIP_K8S }, async () => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(text, /^fslm_controller_jobs_created_total\{stage="understand"\} 1$/m);
  assert.match(text, /^fslm_controller_is_leader 1$/m);
  assert.match(text, /^fslm_controller_runs\{phase="Succeeded"\} 2$/m);
  assert.match(text, /^fslm_controller_reconciles_total\{[^}]*result="ok"[^}]*\} \d+$/m);
  assert.match(text, /^fslm_controller_stage_duration_seconds_count\{phase="Succeeded"\} 5$/m);
});
