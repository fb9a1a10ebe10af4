// Composition root of the router: `fslm router --stack FILE --grpc HOST:PORT --http HOST:PORT --nats URL`.
import { connect } from 'nats';
import { joinHostPort, splitHostPort } from '../../shared/address.ts';
import { EXIT_USAGE, fslmCommand, hostPort, parseCommandLine, positiveInteger } from '../../shared/command-line.ts';
import { errorMessage } from '../../shared/errors.ts';
import { startTelemetry } from '../../shared/telemetry.ts';
import { Admission } from './admission.ts';
import { NatsBus } from './bus-nats.ts';
import { readRouterEnvironment } from './config.ts';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, DEFAULT_NATS_URL, DESCRIBE_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS } from './defaults.ts';
import { startRouterGrpcServer } from './grpc-server.ts';
import { startRouterHttpServer } from './openai-http.ts';
import { RouterMetrics } from './router-metrics.ts';
import { boundedShutdown, firstStopSignal } from './shutdown.ts';
import { loadStackFile } from './stack-loader.ts';
import { StackRunner } from './stack-runner.ts';
import { StageLimitsCache } from './stage-limits.ts';
import type { StackDefinition } from './types.ts';

/** The flags of `fslm router`. */
interface RouterFlags {
  stack?: string[];
  grpc: string;
  http: string;
  nats: string;
  maxInFlight?: number;
  handoff: boolean;
}

function routerCommand() {
  return fslmCommand('fslm router', 'Serve stacks over NATS: gRPC StackService and an OpenAI-compatible HTTP API.')
    .option('--stack <FILE>', 'a stack definition (required; repeat it for more stacks)', (file: string, files: string[] | undefined) => [...(files ?? []), file])
    .option('--grpc <HOST:PORT>', 'gRPC StackService address (port 0 picks a free one)', hostPort, DEFAULT_GRPC_ADDRESS)
    .option('--http <HOST:PORT>', 'OpenAI-compatible HTTP address and /metrics', hostPort, DEFAULT_HTTP_ADDRESS)
    .option('--nats <URL>', 'the NATS server the stages serve on', DEFAULT_NATS_URL)
    .option('--max-in-flight <N>', 'requests run at once before RESOURCE_EXHAUSTED (default $FSLM_ROUTER_MAX_IN_FLIGHT)', positiveInteger)
    .option('--no-handoff', 'run each stage only after the previous one finished')
    .addHelpText('after', `
environment: FSLM_ROUTER_MAX_IN_FLIGHT, FSLM_ROUTER_HEARTBEAT_MS, FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS,
             FSLM_ROUTER_MAX_ATTEMPTS, FSLM_ROUTER_HANDOFF=0, FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT,
             FSLM_ROUTER_DESCRIBE_TTL_MS, FSLM_ROUTER_CORS_ORIGINS, OTEL_EXPORTER_OTLP_ENDPOINT`);
}

export async function runRouter(argv: string[]): Promise<number> {
  const line = parseCommandLine<RouterFlags>(routerCommand(), argv, (flags) => {
    if (!flags.stack?.length) throw new Error('--stack FILE is required');
  });
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  let env;
  const stacks = new Map<string, StackDefinition>();
  try {
    env = readRouterEnvironment();
    if (values.maxInFlight !== undefined) env.maxInFlight = values.maxInFlight;
    if (!values.handoff) env.handoff = false;
    for (const file of values.stack!) {
      const stack = await loadStackFile(file);
      if (stacks.has(stack.name)) throw new Error(`${file}: a stack named ${stack.name} is already loaded`);
      stacks.set(stack.name, stack);
    }
  } catch (error) {
    console.error(`fslm router: ${errorMessage(error)}`);
    return EXIT_USAGE;
  }
  let nc;
  try {
    nc = await connect({ servers: values.nats!, name: 'fslm-router', maxReconnectAttempts: -1 });
  } catch (error) {
    console.error(`fslm router: cannot connect to NATS at ${values.nats}: ${errorMessage(error)}`);
    return 1;
  }
  const telemetry = startTelemetry(env.telemetry);
  const bus = new NatsBus(nc);
  const runner = new StackRunner({
    bus, stacks, admission: new Admission(env.maxInFlight), tracer: telemetry.tracer, metrics: new RouterMetrics(telemetry.meter),
    config: { heartbeatMs: env.heartbeatMs, heartbeatTimeoutMs: env.heartbeatTimeoutMs, maxAttempts: env.maxAttempts, handoffMaxInFlight: env.handoffMaxInFlight },
    limits: new StageLimitsCache(bus, { ttlMs: env.describeTtlMs, timeoutMs: DESCRIBE_TIMEOUT_MS }),
  });
  const httpAddress = splitHostPort(values.http!);
  let grpcServer;
  let httpServer;
  try {
    grpcServer = await startRouterGrpcServer(runner, stacks, values.grpc!, env.handoff);
    httpServer = await startRouterHttpServer({ runner, stacks, handoff: env.handoff, corsOrigins: env.corsOrigins, metricsHandler: telemetry.metricsHandler }, httpAddress.host, httpAddress.port);
  } catch (error) {
    console.error(`fslm router: cannot listen (gRPC ${values.grpc}, HTTP ${values.http}): ${errorMessage(error)}`);
    const started = grpcServer;
    await boundedShutdown([async () => started?.shutdown(), () => bus.close(), () => telemetry.shutdown()], SHUTDOWN_TIMEOUT_MS);
    return 1;
  }
  console.log(JSON.stringify({
    event: 'listening',
    grpc: joinHostPort(splitHostPort(values.grpc!).host, grpcServer.port),
    http: joinHostPort(httpAddress.host, httpServer.port),
    nats: values.nats,
    stacks: [...stacks.keys()],
    handoff: env.handoff,
  }));
  const signal = await firstStopSignal();
  console.log(JSON.stringify({ event: 'stopping', signal, timeout_ms: SHUTDOWN_TIMEOUT_MS }));
  const doors = { grpc: grpcServer, http: httpServer };
  // Closing the doors cancels the runs in flight (their clients go away), which cancels their stages.
  const finished = await boundedShutdown([
    () => Promise.all([doors.grpc.shutdown(), doors.http.close()]),
    () => bus.close(),
    () => telemetry.shutdown(),
  ], SHUTDOWN_TIMEOUT_MS);
  if (!finished) console.error(`fslm router: shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
  return finished ? 0 : 1;
}
