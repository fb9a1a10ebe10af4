// The `fslm` command: dispatches to each service's composition root.
export const USAGE = `usage: fslm <command> [options]

commands:
  stage       serve one SLM over gRPC (fslm stage --model DIR --grpc HOST:PORT)
  bench       run the performance suite and write bench/results/latest.json
  controller  run the StackTrainingRun operator`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  stage: async () => (await import('../stage/src/main.ts')).runStage,
  bench: async () => (await import('../../bench/main.ts')).runBench,
  controller: async () => (await import('../controller/src/main.ts')).runController,
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
