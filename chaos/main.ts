// `fslm chaos` (`npm run chaos`): the stack on separate hosts (network namespaces: a 3-server NATS
// cluster, two replicas of each stage on their own hosts, the router on its own host; this process is the
// clients' host) under a steady stream of concurrent streaming requests (gRPC RunStream and OpenAI HTTP
// SSE, on the tiny model) for a bounded time, while a stage replica's host is killed every few seconds (and
// its stage started again) and the router's NATS server is restarted once. Prints what happened to the
// requests per fault window and the stack's memory; exits 1 when any request was lost or hung.
import { writeFileSync } from 'node:fs';
import { fslmCommand, parseCommandLine, positiveInteger, positiveNumber } from '../services/shared/command-line.ts';
import { startHostStack } from '../test/support/host-stack.ts';
import { testModels } from '../test/support/models.ts';
import { StackBuilder } from '../test/stack/support/stack-builder.ts';
import { FaultSchedule } from './faults.ts';
import { Load } from './load.ts';
import { connectionReport, formatSummary, stackMemory, summarize } from './report.ts';

interface ChaosFlags {
  duration: number;
  concurrency: number;
  killEvery: number;
  natsRestartAt: number;
  deadline: number;
  json?: string;
}

function chaosCommand() {
  return fslmCommand('fslm chaos', 'Faults under load on separate hosts (network namespaces; needs root): a 3-server NATS cluster, two replicas of each of two stages and the router on their own hosts, streaming requests over gRPC and HTTP SSE while stage hosts are killed and a NATS server is restarted. Exits 0 when no request was lost or hung.')
    .option('--duration <S>', 'how long the load runs (seconds)', positiveNumber, 60)
    .option('--concurrency <N>', 'requests in flight at once (alternating gRPC and HTTP)', positiveInteger, 4)
    .option('--kill-every <S>', 'kill a stage replica\'s host this often (seconds)', positiveNumber, 10)
    .option('--nats-restart-at <S>', 'restart the router\'s NATS server at this time (seconds; beyond --duration: never)', positiveNumber, 35)
    .option('--deadline <S>', 'each request\'s deadline (seconds)', positiveNumber, 30)
    .option('--json <FILE>', 'also write the summary as JSON');
}

/** Router settings for the run: heartbeats every 100 ms, a replica lost after 1.5 s of silence, six attempts per stage. */
const ROUTER_ENV = { FSLM_ROUTER_HEARTBEAT_MS: '100', FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: '1500', FSLM_ROUTER_MAX_ATTEMPTS: '6' };

/** Two short stages on the tiny model: a request takes about a second, so a fault catches many of them mid-stream. */
function chaosStack(): StackBuilder {
  return new StackBuilder('chaos')
    .stage({ name: 'draft', template: 'Write notes about {input}.', params: { maxNewTokens: 48, temperature: 0 } })
    .stage({ name: 'answer', template: 'Answer from these notes: {stages.draft}', params: { maxNewTokens: 24, temperature: 0 } });
}

export async function runChaos(argv: string[]): Promise<number> {
  const line = parseCommandLine<ChaosFlags>(chaosCommand(), argv);
  if (!line.ok) return line.exitCode;
  const flags = line.opts;
  const options = {
    durationMs: flags.duration * 1000, killEveryMs: flags.killEvery * 1000, natsRestartAtMs: flags.natsRestartAt * 1000,
    deadlineMs: flags.deadline * 1000, concurrency: flags.concurrency,
  };
  const jsonFile = flags.json;
  const log = (line: string) => console.error(`[chaos] ${line}`);
  // Ctrl-C or SIGTERM: exit at once; the hosts (and every process on them) are removed on exit.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  log('starting the hosts: 3 NATS servers, 2 replicas of each of 2 stages, the router (tiny model)');
  const stack = await startHostStack({ stack: chaosStack(), modelDir: testModels('tiny')['tiny-onnx'], routerEnv: ROUTER_ENV });
  try {
    log(`hosts on ${stack.net.subnet}: router ${stack.grpc}; NATS ${stack.nats.urls}`);
    const start = await stackMemory(stack);
    const faults = new FaultSchedule(stack, { durationMs: options.durationMs, killEveryMs: options.killEveryMs, natsRestartAtMs: options.natsRestartAtMs, log });
    const load = new Load({
      concurrency: options.concurrency, deadlineMs: options.deadlineMs, client: stack.client, httpBase: `http://${stack.http}`, model: stack.stackName,
      window: () => faults.current(),
    });
    log(`load: ${options.concurrency} concurrent streaming requests (gRPC and HTTP SSE) for ${options.durationMs / 1000} s`);
    load.start();
    const faultsDone = faults.run();
    await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    faults.stop();
    await faultsDone;
    await load.stop();
    const end = await stackMemory(stack);
    const summary = summarize(faults.windows, load.records, { start, end }, connectionReport(stack));
    console.log(formatSummary(summary));
    if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(summary, null, 2)}\n`);
    const ok = summary.total.lost === 0 && summary.total.hung === 0 && summary.total.completed > 0;
    log(ok ? 'no request lost or hung' : `${summary.total.lost} lost, ${summary.total.hung} hung, ${summary.total.completed} completed`);
    return ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}
