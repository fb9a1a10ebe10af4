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
import { checkStackServable, UnservableStackError } from './up-limits.ts';
import { UnservableModelsError, resolveStackModels } from './up-models.ts';
import { FSLM_BIN, fslmArgs, howItEnded, jsonEvent, liveChildren, runScript, spawnChild, spawnNatsServer, type Child, type Stoppable } from './up-processes.ts';
import { prepareUpTrust, type UpTrust } from './up-tls.ts';

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
  tls?: boolean;
  tlsDir: string;
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
    .option('--tls', 'a local CA: mTLS on the gRPC doors and HTTPS on the HTTP door, NATS with TLS and one identity per stage and for the router')
    .addOption(new Option('--tls-dir <DIR>', 'where --tls keeps its CA, certificates and NKey seeds').default(path.join(ROOT, '.fslm/tls'), '.fslm/tls'))
    .addHelpText('after', "\nA stage's model is an ONNX artifact directory (relative to the stack file), a file:///… or s3://bucket/prefix model URI,\nor a model name from scripts/models.");
}

function log(line: string): void {
  process.stderr.write(`[up] ${line}\n`);
}

/**
 * The directory of every model name scripts/models builds (`--list`: nothing built), after building those of
 * `names` it knows and what they are built from (`scripts/models NAME...`), and nothing else: a stack of the
 * tiny model does not wait for the trained default stack to be exported. A name it does not know is left for
 * the caller to report.
 */
async function scriptModels(names: string[]): Promise<Record<string, string>> {
  const script = path.join(ROOT, 'scripts/models');
  const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
  const known = lastJson(await runScript(script, ['--list'], { group: true }));
  const build = [...new Set(names)].filter((name) => Object.hasOwn(known, name));
  if (build.length > 0) {
    log(`model artifacts: scripts/models ${build.join(' ')} (cached by content hash; the first run fetches and exports SmolLM2, a few minutes)`);
    await runScript(script, build, { group: true });
  }
  return known;
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
    const trust = values.tls ? prepareUpTrust(path.resolve(values.tlsDir), stack) : null;
    if (trust) log(`TLS: local CA ${trust.caFile}; NATS identities and permissions in ${trust.natsConfigFile}`);
    const nats = spawnNatsServer(echo, trust ? { configFile: trust.natsConfigFile, tls: true } : undefined);
    const natsUrl = String((await nats.ready).url);
    log(`nats-server at ${natsUrl}`);
    notStopping();
    log(`starting ${stack.stages.length * replicas} stage processes (${threads} intra-op thread${threads > 1 ? 's' : ''} each)`);
    const replicasOf = new Map<string, Child[]>();
    stages.push(...stack.stages.flatMap((stage) => Array.from({ length: replicas }, (_, r) => spawnChild({
      name: replicas > 1 ? `${stage.name}-${r + 1}` : stage.name,
      command: process.execPath,
      args: fslmArgs('stage', ['--model', models.get(stage.name)!, '--precision', stage.precision, '--grpc', '127.0.0.1:0', '--nats', natsUrl, '--stack', stack.name,
        '--stage', stage.name, '--subject', stage.subjectPrefix, '--threads', String(threads), '--metrics', '127.0.0.1:0',
        ...(trust?.argsFor({ stack: stack.name, stage: stage.name }) ?? [])]),
      readyWhen: jsonEvent('listening'),
      echo,
    }))));
    stages.forEach((c, i) => {
      const name = stack.stages[Math.floor(i / replicas)].name;
      replicasOf.set(name, [...(replicasOf.get(name) ?? []), c]);
    });
    const stageReady = await Promise.all(stages.map((c) => c.ready));
    notStopping();
    await checkStackServable(stack, stages.map((c, i) => ({ stage: stack.stages[Math.floor(i / replicas)].name, grpc: String(stageReady[i].grpc) })),
      trust ? { caFile: trust.caFile, certFile: trust.client.certFile, keyFile: trust.client.keyFile } : undefined);
    notStopping();
    router = spawnChild({
      name: 'router',
      command: process.execPath,
      args: fslmArgs('router', ['--stack', file, '--grpc', values.grpc, '--http', values.http, '--nats', natsUrl, ...(values.handoff ? [] : ['--no-handoff']),
        ...(trust?.argsFor('router') ?? [])]),
      readyWhen: jsonEvent('listening'),
      echo,
    });
    const routerReady = await router.ready;
    const stageInfo = stages.map((c, i) => ({ name: c.name, pid: c.child.pid, grpc: stageReady[i].grpc, metrics: stageReady[i].metrics, model: stageReady[i].model, version: stageReady[i].version }));
    console.log(JSON.stringify({
      event: 'up', stack: stack.name, grpc: routerReady.grpc, http: routerReady.http, nats: natsUrl, stages: stageInfo,
      pids: { router: router.child.pid, nats: nats.child.pid },
      ...(trust ? { tls: { ca: trust.caFile, cert: trust.client.certFile, key: trust.client.keyFile } } : {}),
    }));
    console.log(banner(stack.name, stack.stages.map((s) => s.name), String(routerReady.grpc), String(routerReady.http), stageInfo.map((s) => String(s.metrics)), trust));
    const exitedFirst = await untilUnservable(router, nats, replicasOf, () => signalled !== undefined || stopping !== undefined);
    if (signalled) return await new Promise<never>(() => undefined); // the signal handler stops everything, then exits
    log(`${exitedFirst.c.name} ${howItEnded(exitedFirst.c.child, exitedFirst.code)}; stopping everything`);
    await stopAll();
    return 1;
  } catch (error) {
    if (signalled) return await new Promise<never>(() => undefined);
    const refused = error instanceof StackDefinitionError || error instanceof UnservableModelsError || error instanceof UnservableStackError;
    console.error(`fslm up: ${errorMessage(error)}`);
    await stopAll();
    return refused ? EXIT_USAGE : 1;
  } finally {
    removeHandler();
  }
}

/**
 * Resolves with the first exit that leaves the stack unable to serve: the router's, nats-server's or a
 * stage's last replica's. A replica that exits while others of its stage run is reported (a
 * `replica-exited` JSON event and a log line) and the stack serves on: the router retries its work on
 * the others. Nothing is reported once `stopping()`.
 */
function untilUnservable(router: Child, nats: Child, replicasOf: Map<string, Child[]>, stopping: () => boolean): Promise<{ c: Child; code: number | null }> {
  return new Promise((resolve) => {
    for (const c of [router, nats]) void c.exited.then((code) => resolve({ c, code }));
    for (const [stage, children] of replicasOf) {
      let left = children.length;
      for (const c of children) {
        void c.exited.then((code) => {
          left--;
          if (left === 0) return resolve({ c, code });
          if (stopping()) return;
          console.log(JSON.stringify({ event: 'replica-exited', stage, name: c.name, code, signal: c.child.signalCode, replicas_left: left }));
          log(`${c.name} ${howItEnded(c.child, code)}; stage ${stage} serves on with ${left} of ${children.length} replicas`);
        });
      }
    }
  });
}

function banner(stack: string, stageNames: string[], grpc: string, http: string, stageMetrics: string[], trust: UpTrust | null): string {
  const scheme = trust ? 'https' : 'http';
  return [
    '',
    `fslm is up: stack "${stack}" with ${stageNames.length} stages (${stageNames.join(' → ')})`,
    `  gRPC  fslm.v1.StackService  ${grpc}${trust ? ' (TLS; client certificate required)' : ''}`,
    `  HTTP  OpenAI-compatible     ${scheme}://${http}/v1  (model: "${stack}")`,
    `  metrics                     ${scheme}://${http}/metrics${stageMetrics.map((m) => `, ${scheme}://${m}/metrics`).join('')}`,
    '',
    'try:',
    `  node bin/fslm.js ask "Why is the sky blue?" --router ${grpc}${trust ? ` ${trust.askFlags.join(' ')}` : ''}`,
    `  curl -s ${scheme}://${http}/v1/chat/completions -H 'content-type: application/json' \\`,
    ...(trust ? [`       --cacert ${trust.caFile} --cert ${trust.client.certFile} --key ${trust.client.keyFile} \\`] : []),
    `       -d '{"model":"${stack}","messages":[{"role":"user","content":"Why is the sky blue?"}]}'`,
    '',
    'Ctrl-C stops every process fslm up started.',
  ].join('\n');
}
