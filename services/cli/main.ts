// The `fslm` command: `fslm --help` lists the commands, `fslm --version` prints the version, and each
// command (which parses its own options: `fslm CMD --help`) runs from its service's composition root.
// Every fslm process gets here first: it stops with its parent when started by another fslm process
// (--parent-pid), and its graceful stop on SIGINT, SIGTERM or SIGHUP has a bound.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_USAGE } from '../shared/command-line.ts';
import { boundShutdown, watchParent } from '../shared/process-lifetime.ts';

type Run = (argv: string[]) => Promise<number>;

interface CommandEntry {
  synopsis: string;
  load: () => Promise<Run>;
  /**
   * How long a graceful stop may take before the process exits anyway; undefined where the command
   * bounds its own stop (train: each trainer's --kill-grace; trainer/distill: a grace, then SIGKILL).
   */
  shutdownBoundMs?: number;
}

/** The backstop of a server's graceful stop (stage, router, controller), past the bounds they keep themselves. */
export const SERVER_SHUTDOWN_BOUND_MS = 30_000;
/** The bound of a stop that first stops child processes (each: SIGTERM, then SIGKILL after 10 s). */
export const SUPERVISOR_SHUTDOWN_BOUND_MS = 45_000;

const COMMANDS: Record<string, CommandEntry> = {
  up: {
    synopsis: 'the main job: nats-server, one process per stage and the router, until Ctrl-C (fslm up [--stack FILE])',
    load: async () => (await import('./up.ts')).runUp, shutdownBoundMs: SUPERVISOR_SHUTDOWN_BOUND_MS,
  },
  ask: {
    synopsis: 'ask the running stack (fslm ask "PROMPT" [--router HOST:PORT] [--json])',
    load: async () => (await import('./ask.ts')).runAsk, shutdownBoundMs: 5_000,
  },
  router: {
    synopsis: 'serve stacks over NATS: gRPC StackService and an OpenAI-compatible HTTP API',
    load: async () => (await import('../router/src/index.ts')).runRouter, shutdownBoundMs: SERVER_SHUTDOWN_BOUND_MS,
  },
  stage: {
    synopsis: 'serve one SLM over gRPC, and over NATS with --nats (fslm stage --model DIR --grpc HOST:PORT)',
    load: async () => (await import('../stage/src/index.ts')).runStage, shutdownBoundMs: SERVER_SHUTDOWN_BOUND_MS,
  },
  train: {
    synopsis: 'run a StackTrainingRun on this machine (fslm train --local RUN.yaml [--state-dir DIR] [--parallel N])',
    load: async () => (await import('../controller/src/local-main.ts')).runTrain,
  },
  status: {
    synopsis: 'local training runs and their stages (fslm status [RUN] [--json])',
    load: async () => (await import('../controller/src/local-main.ts')).runStatus, shutdownBoundMs: 5_000,
  },
  distill: {
    synopsis: "write each stage's training data with a teacher (fslm distill --help)",
    load: async () => (await import('./trainer.ts')).runDistill,
  },
  eval: {
    synopsis: 'evaluate stacks, stages and artifacts with lm-eval; accuracy with intervals, per-stage cost, a report (fslm eval --help)',
    load: async () => (await import('./eval.ts')).runEval,
  },
  'render-prompts': {
    synopsis: 'what a stage is asked for rows of template values, rendered and tokenized as served (fslm render-prompts --help)',
    load: async () => (await import('./render-prompts.ts')).runRenderPrompts, shutdownBoundMs: 5_000,
  },
  trainer: {
    synopsis: "the Python trainer's other commands: fetch-base, export, finetune, ... (fslm trainer --help)",
    load: async () => (await import('./trainer.ts')).runTrainerCli,
  },
  bench: {
    synopsis: 'run the performance suite and write bench/results/latest.json',
    load: async () => (await import('../../bench/main.ts')).runBench, shutdownBoundMs: SUPERVISOR_SHUTDOWN_BOUND_MS,
  },
  controller: {
    synopsis: 'run the StackTrainingRun operator',
    load: async () => (await import('../controller/src/main.ts')).runController, shutdownBoundMs: SERVER_SHUTDOWN_BOUND_MS,
  },
  model: {
    synopsis: 'fetch, push and inspect model artifacts (fslm model fetch URI DIR | push DIR URI | version URI)',
    load: async () => (await import('../model-store/src/main.ts')).runModel, shutdownBoundMs: 5_000,
  },
  health: {
    synopsis: 'check a gRPC door\'s health, plaintext or over TLS: exit 0 when SERVING (fslm health --grpc HOST:PORT [--service NAME])',
    load: async () => (await import('./health.ts')).runHealth, shutdownBoundMs: 5_000,
  },
  'nats-config': {
    synopsis: 'print the nats-server configuration for stacks: one NKey identity per stage and for the router, each allowed only its own subjects',
    load: async () => (await import('./nats-config.ts')).runNatsConfig, shutdownBoundMs: 5_000,
  },
  chaos: {
    synopsis: 'faults under load on separate hosts (network namespaces, needs root); counts what is lost or hung (fslm chaos --help)',
    load: async () => (await import('../../chaos/main.ts')).runChaos, shutdownBoundMs: SUPERVISOR_SHUTDOWN_BOUND_MS,
  },
};

/** The version in the repository's package.json. */
export function fslmVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const log = (line: string): void => void process.stderr.write(`fslm: ${line}\n`);

/** The top-level parser: global options, then one command whose own argv is passed through untouched. */
function program(chosen: (name: string, argv: string[]) => void): Command {
  const fslm = new Command('fslm')
    .description('Serve and fine-tune stacks of small language models (FSLM).')
    .usage('<command> [options]')
    .version(fslmVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .addOption(new Option('--parent-pid <pid>', 'stop when this process is no longer the parent').hideHelp()
      .argParser((value) => {
        if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('Expected a process id.');
        return Number(value);
      }))
    .enablePositionalOptions()
    .helpCommand(false)
    .configureHelp({ subcommandTerm: (cmd) => cmd.name() })
    .addHelpText('after', '\nRun `fslm COMMAND --help` for the options of a command.')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'fslm: ')) })
    .showHelpAfterError('(see fslm --help)');
  for (const [name, entry] of Object.entries(COMMANDS)) {
    fslm.command(name).description(entry.synopsis)
      .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions()
      .argument('[args...]').action((args: string[]) => chosen(name, args));
  }
  fslm.command('help').description('show this help, or a command\'s (fslm help COMMAND)')
    .helpOption(false).allowExcessArguments().argument('[command]')
    .action((name: string | undefined) => (name ? chosen(name, ['--help']) : fslm.help()));
  return fslm;
}

/** The command an fslm command line names: its first word that is not a global option (or its value). */
function commandNamed(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--parent-pid') i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return undefined;
}

/** Runs `fslm ARGV` and resolves with the process exit code (0 ok, 1 failed, 2 command line not understood). */
export async function main(argv: string[]): Promise<number> {
  // An unknown command is refused even when --help follows it (the parser would answer the general help, exit 0).
  const named = commandNamed(argv);
  if (named !== undefined && named !== 'help' && !Object.hasOwn(COMMANDS, named)) {
    log(`unknown command '${named}'\n(see fslm --help)`);
    return EXIT_USAGE;
  }
  let chosen: { name: string; argv: string[] } | undefined;
  const fslm = program((name, args) => void (chosen = { name, argv: args }));
  try {
    fslm.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (!chosen) {
    fslm.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  const entry = COMMANDS[chosen.name];
  if (!entry) {
    log(`unknown command '${chosen.name}'\n(see fslm --help)`);
    return EXIT_USAGE;
  }
  if (entry.shutdownBoundMs !== undefined) boundShutdown(entry.shutdownBoundMs, (line) => log(`${chosen!.name}: ${line}`));
  const parentPid = fslm.opts<{ parentPid?: number }>().parentPid;
  if (parentPid !== undefined) {
    // Stopping as on SIGTERM: the command's own graceful stop, within its bound.
    watchParent(parentPid, () => {
      log(`parent process ${parentPid} is gone; stopping`);
      process.kill(process.pid, 'SIGTERM');
    });
  }
  return (await entry.load())(chosen.argv);
}
