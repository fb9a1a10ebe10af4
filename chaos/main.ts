// `fslm chaos` (`npm run chaos`): the stack on separate hosts (network namespaces: a 3-server NATS
// cluster, two replicas of each stage on their own hosts, the router on its own host; this process is the
// clients' host) under a steady stream of concurrent streaming requests (gRPC RunStream and OpenAI HTTP
// SSE, on the tiny model) for a bounded time, while a stage replica's host is killed every few seconds (and
// its stage started again) and the router's NATS server is restarted once. Prints what happened to the
// requests per fault window and the stack's memory; exits 1 when any request was lost or hung.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage } from '../services/shared/errors.ts';
import { startHostStack } from '../test/support/host-stack.ts';
import { testModels } from '../test/support/models.ts';
import { StackBuilder } from '../test/stack/support/stack-builder.ts';
import { FaultSchedule } from './faults.ts';
import { Load } from './load.ts';
import { connectionReport, formatSummary, stackMemory, summarize } from './report.ts';

export const CHAOS_USAGE = `usage: fslm chaos [--duration S] [--concurrency N] [--kill-every S] [--nats-restart-at S] [--deadline S] [--json FILE]
  defaults: --duration 60 --concurrency 4 --kill-every 10 --nats-restart-at 35 (beyond --duration: never) --deadline 30
  needs root (network namespaces); exits 0 when no request was lost or hung, 1 otherwise, 2 on a usage error`;

/** Router settings for the run: heartbeats every 100 ms, a replica lost after 1.5 s of silence, six attempts per stage. */
const ROUTER_ENV = { FSLM_ROUTER_HEARTBEAT_MS: '100', FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: '1500', FSLM_ROUTER_MAX_ATTEMPTS: '6' };

/** Two short stages on the tiny model: a request takes about a second, so a fault catches many of them mid-stream. */
function chaosStack(): StackBuilder {
  return new StackBuilder('chaos')
    .stage({ name: 'draft', template: 'Write notes about {input}.', params: { maxNewTokens: 48, temperature: 0 } })
    .stage({ name: 'answer', template: 'Answer from these notes: {stages.draft}', params: { maxNewTokens: 24, temperature: 0 } });
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

export async function runChaos(argv: string[]): Promise<number> {
  let options;
  let jsonFile: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string', default: '60' },
        concurrency: { type: 'string', default: '4' },
        'kill-every': { type: 'string', default: '10' },
        'nats-restart-at': { type: 'string', default: '35' },
        deadline: { type: 'string', default: '30' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(CHAOS_USAGE);
      return 0;
    }
    const concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${JSON.stringify(values.concurrency)}`);
    options = {
      durationMs: seconds(values.duration!, '--duration') * 1000,
      killEveryMs: seconds(values['kill-every']!, '--kill-every') * 1000,
      natsRestartAtMs: seconds(values['nats-restart-at']!, '--nats-restart-at') * 1000,
      deadlineMs: seconds(values.deadline!, '--deadline') * 1000,
      concurrency,
    };
    jsonFile = values.json;
  } catch (error) {
    console.error(`fslm chaos: ${errorMessage(error)}\n${CHAOS_USAGE}`);
    return 2;
  }
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
