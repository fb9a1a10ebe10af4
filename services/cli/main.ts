// The `fslm` command: dispatches to each service's composition root.
export const USAGE = `usage: fslm <command> [options]

commands:
  up          the main job: nats-server, one process per stage and the router, until Ctrl-C (fslm up [--stack FILE])
  ask         ask the running stack (fslm ask "PROMPT" [--router HOST:PORT] [--json])
  router      serve stacks over NATS: gRPC StackService and an OpenAI-compatible HTTP API
  stage       serve one SLM over gRPC, and over NATS with --nats (fslm stage --model DIR --grpc HOST:PORT)
  train       run a StackTrainingRun on this machine (fslm train --local RUN.yaml [--state-dir DIR] [--parallel N])
  status      local training runs and their stages (fslm status [RUN] [--json])
  distill     write each stage's training data with a teacher (fslm distill --help)
  trainer     the Python trainer's other commands: fetch-base, export, finetune, ... (fslm trainer --help)
  bench       run the performance suite and write bench/results/latest.json
  controller  run the StackTrainingRun operator
  nats-config print the nats-server configuration for stacks: NKey users with per-subject permissions (fslm nats-config --help)
  chaos       faults under load on separate hosts (network namespaces); counts what is lost (fslm chaos --help)`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./up.ts')).runUp,
  ask: async () => (await import('./ask.ts')).runAsk,
  router: async () => (await import('../router/src/main.ts')).runRouter,
  stage: async () => (await import('../stage/src/main.ts')).runStage,
  train: async () => (await import('../controller/src/local-main.ts')).runTrain,
  status: async () => (await import('../controller/src/local-main.ts')).runStatus,
  distill: async () => (await import('./trainer.ts')).runDistill,
  trainer: async () => (await import('./trainer.ts')).runTrainerCli,
  bench: async () => (await import('../../bench/main.ts')).runBench,
  controller: async () => (await import('../controller/src/main.ts')).runController,
  'nats-config': async () => (await import('./nats-config.ts')).runNatsConfig,
  chaos: async () => (await import('../../chaos/main.ts')).runChaos,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`fslm: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}
