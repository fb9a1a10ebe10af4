// `fslm up`: the main job on one machine. Sets up what is missing, builds (or finds cached) the model
// artifacts the stack names, starts nats-server, one process per stage and the router, prints where
// to call it, and stops every process it started on Ctrl-C.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage } from '../shared/errors.ts';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS } from '../router/src/defaults.ts';
import { loadStackFile } from '../router/src/stack-loader.ts';
import type { StackDefinition } from '../router/src/types.ts';
import { jsonEvent, spawnChild, spawnNatsServer, type Child } from './up-processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FSLM = path.join(ROOT, 'bin/fslm.js');

export const UP_USAGE = `usage: fslm up [--stack FILE] [--grpc HOST:PORT] [--http HOST:PORT] [--threads N] [--replicas N]
               [--no-setup] [--no-handoff] [--verbose]
  --stack defaults to stacks/default.yaml (four SmolLM2-135M-Instruct stages)`;

function log(line: string): void {
  process.stderr.write(`[up] ${line}\n`);
}

/** Artifact directories of the stages: names from scripts/models, or directories relative to the stack file. */
function resolveModels(stack: StackDefinition, file: string): Map<string, string> {
  const dirs = new Map<string, string>();
  const named: string[] = [];
  for (const stage of stack.stages) {
    const candidate = path.resolve(path.dirname(file), stage.model);
    if (existsSync(path.join(candidate, 'fslm.json'))) dirs.set(stage.name, candidate);
    else named.push(stage.name);
  }
  if (named.length === 0) return dirs;
  log('model artifacts: scripts/models (cached by content hash; the first run fetches and exports SmolLM2, a few minutes)');
  const out = execFileSync(path.join(ROOT, 'scripts/models'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const models = JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
  for (const name of named) {
    const model = stack.stages.find((s) => s.name === name)!.model;
    if (!models[model]) throw new Error(`stage ${name}: model ${JSON.stringify(model)} is neither an artifact directory nor one of ${Object.keys(models).join(', ')}`);
    dirs.set(name, models[model]);
  }
  return dirs;
}

export async function runUp(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: 'string', default: path.join(ROOT, 'stacks/default.yaml') },
        grpc: { type: 'string', default: DEFAULT_GRPC_ADDRESS },
        http: { type: 'string', default: DEFAULT_HTTP_ADDRESS },
        threads: { type: 'string' },
        replicas: { type: 'string', default: '1' },
        'no-setup': { type: 'boolean', default: false },
        'no-handoff': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
      },
      strict: true,
    }));
    if (!(Number(values.replicas) >= 1 && Number.isInteger(Number(values.replicas)))) throw new Error('--replicas must be a positive integer');
    if (values.threads !== undefined && !(Number(values.threads) >= 1)) throw new Error('--threads must be a positive integer');
  } catch (error) {
    console.error(`fslm up: ${errorMessage(error)}\n${UP_USAGE}`);
    return 2;
  }
  const started: Child[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const child of [...started].reverse()) {
      const t0 = Date.now();
      await child.stop().catch(() => undefined);
      if (values.verbose) log(`stopped ${child.name} (${Date.now() - t0} ms)`);
    }
  };
  const onSignal = () => {
    if (stopping) return;
    log('stopping');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const echo = (name: string, line: string, stream: 'stdout' | 'stderr') => {
    if (stream === 'stderr' || values.verbose) process.stderr.write(`[${name}] ${line}\n`);
  };
  try {
    const file = path.resolve(values.stack!);
    const stack = await loadStackFile(file);
    if (!values['no-setup']) {
      log('setup (scripts/setup: nats-server, npm packages, the trainer venv; each step checks first)');
      execFileSync(path.join(ROOT, 'scripts/setup'), [], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
    const models = resolveModels(stack, file);
    const replicas = Number(values.replicas);
    const threads = values.threads ? Number(values.threads) : Math.max(1, Math.floor(os.availableParallelism() / (stack.stages.length * replicas)));
    const nats = spawnNatsServer(echo);
    started.push(nats);
    const natsUrl = String((await nats.ready).url);
    log(`nats-server at ${natsUrl}`);
    log(`starting ${stack.stages.length * replicas} stage processes (${threads} intra-op thread${threads > 1 ? 's' : ''} each)`);
    const stageChildren = stack.stages.flatMap((stage) => Array.from({ length: replicas }, (_, r) => spawnChild({
      name: replicas > 1 ? `${stage.name}-${r + 1}` : stage.name,
      command: process.execPath,
      args: [FSLM, 'stage', '--model', models.get(stage.name)!, '--precision', stage.precision, '--grpc', '127.0.0.1:0', '--nats', natsUrl, '--stack', stack.name,
        '--stage', stage.name, '--subject', stage.subjectPrefix, '--threads', String(threads), '--metrics', '127.0.0.1:0'],
      readyWhen: jsonEvent('listening'),
      echo,
    })));
    started.push(...stageChildren);
    const stageReady = await Promise.all(stageChildren.map((c) => c.ready));
    const router = spawnChild({
      name: 'router',
      command: process.execPath,
      args: [FSLM, 'router', '--stack', file, '--grpc', values.grpc!, '--http', values.http!, '--nats', natsUrl, ...(values['no-handoff'] ? ['--no-handoff'] : [])],
      readyWhen: jsonEvent('listening'),
      echo,
    });
    started.push(router);
    const routerReady = await router.ready;
    const stages = stageChildren.map((c, i) => ({ name: c.name, pid: c.child.pid, grpc: stageReady[i].grpc, metrics: stageReady[i].metrics, model: stageReady[i].model, version: stageReady[i].version }));
    console.log(JSON.stringify({
      event: 'up', stack: stack.name, grpc: routerReady.grpc, http: routerReady.http, nats: natsUrl, stages,
      pids: { router: router.child.pid, nats: nats.child.pid },
    }));
    console.log([
      '',
      `fslm is up: stack "${stack.name}" with ${stack.stages.length} stages (${stack.stages.map((s) => s.name).join(' → ')})`,
      `  gRPC  fslm.v1.StackService  ${routerReady.grpc}`,
      `  HTTP  OpenAI-compatible     http://${routerReady.http}/v1  (model: "${stack.name}")`,
      `  metrics                     http://${routerReady.http}/metrics${stages.map((s) => `, http://${s.metrics}/metrics`).join('')}`,
      '',
      'try:',
      `  node bin/fslm.js ask "Why is the sky blue?" --router ${routerReady.grpc}`,
      `  curl -s http://${routerReady.http}/v1/chat/completions -H 'content-type: application/json' \\`,
      `       -d '{"model":"${stack.name}","messages":[{"role":"user","content":"Why is the sky blue?"}]}'`,
      '',
      'Ctrl-C stops every process fslm up started.',
    ].join('\n'));
    const exitedFirst = await Promise.race(started.map((c) => c.exited.then((code) => ({ c, code }))));
    if (stopping) return 0;
    log(`${exitedFirst.c.name} exited with ${exitedFirst.code}; stopping everything`);
    await stopAll();
    return 1;
  } catch (error) {
    console.error(`fslm up: ${errorMessage(error)}`);
    await stopAll();
    return 1;
  }
}
