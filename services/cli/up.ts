// `fslm up`: the main job on one machine. Sets up what is missing, checks (building when needed) the
// model artifacts the stack names, starts nats-server, one process per stage and the router, prints
// where to call it, and stops every process it started on Ctrl-C, SIGTERM or SIGHUP. Every child is
// tied to this process: if it dies, even by SIGKILL, the children get SIGTERM.
import os from 'node:os';
import path from 'node:path';
import { Option } from 'commander';
import { errorMessage } from '../shared/errors.ts';
import { EXIT_USAGE, fslmCommand, hostPort, parseCommandLine, positiveInteger } from '../shared/command-line.ts';
import { onTerminationSignal } from '../shared/process-lifetime.ts';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, loadStackFile, StackDefinitionError } from '../router/src/index.ts';
import { UnservableModelsError, resolveStackModels } from './up-models.ts';
import { FSLM_BIN, fslmArgs, jsonEvent, liveChildren, runScript, spawnChild, spawnNatsServer, type Child, type Stoppable } from './up-processes.ts';

const ROOT = path.resolve(path.dirname(FSLM_BIN), '..');

interface UpOptions {
  stack: string;
  grpc: string;
  http: string;
  threads?: number;
  replicas: number;
  setup: boolean;
  handoff: boolean;
  verbose?: boolean;
}

function upCommand() {
  return fslmCommand('fslm up', 'Start nats-server, one process per stage and the router for a stack, until Ctrl-C.')
    .addOption(new Option('--stack <FILE>', 'the stack definition').default(path.join(ROOT, 'stacks/default.yaml'), 'stacks/default.yaml, four SmolLM2-135M-Instruct stages'))
    .option('--grpc <HOST:PORT>', "the router's gRPC StackService address", hostPort, DEFAULT_GRPC_ADDRESS)
    .option('--http <HOST:PORT>', "the router's OpenAI-compatible HTTP address", hostPort, DEFAULT_HTTP_ADDRESS)
    .option('--threads <N>', 'intra-op threads per stage process (default: the cores shared out)', positiveInteger)
    .option('--replicas <N>', 'processes per stage', positiveInteger, 1)
    .addOption(new Option('--no-setup', 'skip scripts/setup'))
    .addOption(new Option('--no-handoff', 'run each stage only after the previous one finished'))
    .option('--verbose', "show the children's stdout and how long each took to stop")
    .addHelpText('after', "\nA stage's model is an ONNX artifact directory (relative to the stack file) or a model name from scripts/models.");
}

function log(line: string): void {
  process.stderr.write(`[up] ${line}\n`);
}

/** Last line of scripts/models' stdout: {name: directory}. */
async function scriptModels(): Promise<Record<string, string>> {
  log('model artifacts: scripts/models (cached by content hash; the first run fetches and exports SmolLM2, a few minutes)');
  const out = await runScript(path.join(ROOT, 'scripts/models'), [], { group: true });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
}

export async function runUp(argv: string[]): Promise<number> {
  const line = parseCommandLine<UpOptions>(upCommand(), argv);
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  let router: Child | undefined;
  const stages: Child[] = [];
  let stopping: Promise<void> | undefined;
  // Router first (no new requests), then the stages together, then nats-server and anything else left.
  const stopAll = () => (stopping ??= (async () => {
    const timed = async (c: Stoppable) => {
      const t0 = Date.now();
      await c.stop().catch(() => undefined);
      if (values.verbose) log(`stopped ${c.name} (${Date.now() - t0} ms)`);
    };
    if (router) await timed(router);
    await Promise.all(stages.map(timed));
    await Promise.all(liveChildren().map(timed));
  })());
  let signalled: NodeJS.Signals | undefined;
  const removeHandler = onTerminationSignal((signal) => {
    if (signalled) return;
    signalled = signal;
    log(`${signal}: stopping`);
    // A graceful stop is a success; children tied to this process stop with it even if this exit comes first.
    void stopAll().then(() => process.exit(0));
  });
  const notStopping = () => {
    if (signalled) throw new Error(`${signalled}: stopping`);
  };
  const echo = (name: string, text: string, stream: 'stdout' | 'stderr') => {
    if (stream === 'stderr' || values.verbose) process.stderr.write(`[${name}] ${text}\n`);
  };
  try {
    const file = path.resolve(values.stack);
    const stack = await loadStackFile(file);
    if (values.setup) {
      log('setup (scripts/setup: nats-server, npm packages, the trainer venv; each step checks first)');
      await runScript(path.join(ROOT, 'scripts/setup'));
    }
    const models = await resolveStackModels(stack, file, scriptModels);
    const replicas = values.replicas;
    const threads = values.threads ?? Math.max(1, Math.floor(os.availableParallelism() / (stack.stages.length * replicas)));
    notStopping();
    const nats = spawnNatsServer(echo);
    const natsUrl = String((await nats.ready).url);
    log(`nats-server at ${natsUrl}`);
    notStopping();
    log(`starting ${stack.stages.length * replicas} stage processes (${threads} intra-op thread${threads > 1 ? 's' : ''} each)`);
    stages.push(...stack.stages.flatMap((stage) => Array.from({ length: replicas }, (_, r) => spawnChild({
      name: replicas > 1 ? `${stage.name}-${r + 1}` : stage.name,
      command: process.execPath,
      args: fslmArgs('stage', ['--model', models.get(stage.name)!, '--grpc', '127.0.0.1:0', '--nats', natsUrl, '--stack', stack.name,
        '--stage', stage.name, '--subject', stage.subjectPrefix, '--threads', String(threads), '--metrics', '127.0.0.1:0']),
      readyWhen: jsonEvent('listening'),
      echo,
    }))));
    const stageReady = await Promise.all(stages.map((c) => c.ready));
    notStopping();
    router = spawnChild({
      name: 'router',
      command: process.execPath,
      args: fslmArgs('router', ['--stack', file, '--grpc', values.grpc, '--http', values.http, '--nats', natsUrl, ...(values.handoff ? [] : ['--no-handoff'])]),
      readyWhen: jsonEvent('listening'),
      echo,
    });
    const routerReady = await router.ready;
    const stageInfo = stages.map((c, i) => ({ name: c.name, pid: c.child.pid, grpc: stageReady[i].grpc, metrics: stageReady[i].metrics, model: stageReady[i].model, version: stageReady[i].version }));
    console.log(JSON.stringify({
      event: 'up', stack: stack.name, grpc: routerReady.grpc, http: routerReady.http, nats: natsUrl, stages: stageInfo,
      pids: { router: router.child.pid, nats: nats.child.pid },
    }));
    console.log(banner(stack.name, stack.stages.map((s) => s.name), String(routerReady.grpc), String(routerReady.http), stageInfo.map((s) => String(s.metrics))));
    const exitedFirst = await Promise.race([router, nats, ...stages].map((c) => c.exited.then((code) => ({ c, code }))));
    if (signalled) return await new Promise<never>(() => undefined); // the signal handler stops everything, then exits
    log(`${exitedFirst.c.name} exited with ${exitedFirst.code}; stopping everything`);
    await stopAll();
    return 1;
  } catch (error) {
    if (signalled) return await new Promise<never>(() => undefined);
    const refused = error instanceof StackDefinitionError || error instanceof UnservableModelsError;
    console.error(`fslm up: ${errorMessage(error)}`);
    await stopAll();
    return refused ? EXIT_USAGE : 1;
  } finally {
    removeHandler();
  }
}

function banner(stack: string, stageNames: string[], grpc: string, http: string, stageMetrics: string[]): string {
  return [
    '',
    `fslm is up: stack "${stack}" with ${stageNames.length} stages (${stageNames.join(' → ')})`,
    `  gRPC  fslm.v1.StackService  ${grpc}`,
    `  HTTP  OpenAI-compatible     http://${http}/v1  (model: "${stack}")`,
    `  metrics                     http://${http}/metrics${stageMetrics.map((m) => `, http://${m}/metrics`).join('')}`,
    '',
    'try:',
    `  node bin/fslm.js ask "Why is the sky blue?" --router ${grpc}`,
    `  curl -s http://${http}/v1/chat/completions -H 'content-type: application/json' \\`,
    `       -d '{"model":"${stack}","messages":[{"role":"user","content":"Why is the sky blue?"}]}'`,
    '',
    'Ctrl-C stops every process fslm up started.',
  ].join('\n');
}
