// Composition root of the router: `fslm router --stack FILE --grpc HOST:PORT --http HOST:PORT --nats URL`
// (or `--k8s-namespace NS --k8s-stack NAME` for Stack objects on a cluster).
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
import { k8sSource, type K8sStackSource } from './stack-source-k8s.ts';
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
  k8sNamespace?: string;
  k8sStack?: string[];
  k8sSelector?: string;
  kubeconfig?: string;
}

function routerCommand() {
  return fslmCommand('fslm router', 'Serve stacks over NATS: gRPC StackService and an OpenAI-compatible HTTP API.')
    .option('--stack <FILE>', 'a stack definition (required; repeat it for more stacks)', (file: string, files: string[] | undefined) => [...(files ?? []), file])
    .option('--grpc <HOST:PORT>', 'gRPC StackService address (port 0 picks a free one)', hostPort, DEFAULT_GRPC_ADDRESS)
    .option('--http <HOST:PORT>', 'OpenAI-compatible HTTP address and /metrics', hostPort, DEFAULT_HTTP_ADDRESS)
    .option('--nats <URL>', 'the NATS server the stages serve on', DEFAULT_NATS_URL)
    .option('--max-in-flight <N>', 'requests run at once before RESOURCE_EXHAUSTED (default $FSLM_ROUTER_MAX_IN_FLIGHT)', positiveInteger)
    .option('--no-handoff', 'run each stage only after the previous one finished')
    .option('--k8s-namespace <NS>', 'serve Stack objects of this Kubernetes namespace (with --k8s-stack or --k8s-selector), following their changes')
    .option('--k8s-stack <NAME>', 'a Stack to serve (repeat it for more)', (name: string, names: string[] | undefined) => [...(names ?? []), name])
    .option('--k8s-selector <LABELS>', 'serve every Stack matching this label selector')
    .option('--kubeconfig <FILE>', 'for --k8s-*: a kubeconfig (default: $KUBECONFIG, else the in-cluster service account)')
    .addHelpText('after', `
environment: FSLM_ROUTER_MAX_IN_FLIGHT, FSLM_ROUTER_HEARTBEAT_MS, FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS,
             FSLM_ROUTER_MAX_ATTEMPTS, FSLM_ROUTER_HANDOFF=0, FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT,
             FSLM_ROUTER_DESCRIBE_TTL_MS, FSLM_ROUTER_CORS_ORIGINS, OTEL_EXPORTER_OTLP_ENDPOINT`);
}

export async function runRouter(argv: string[]): Promise<number> {
  const line = parseCommandLine<RouterFlags>(routerCommand(), argv, (flags) => {
    if (!flags.stack?.length && !flags.k8sNamespace) throw new Error('--stack FILE (or --k8s-namespace NS with --k8s-stack NAME or --k8s-selector LABELS) is required');
  });
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  let env;
  let k8s: K8sStackSource | undefined;
  const stacks = new Map<string, StackDefinition>();
  try {
    k8s = k8sSource(values, stacks);
    env = readRouterEnvironment();
    if (values.maxInFlight !== undefined) env.maxInFlight = values.maxInFlight;
    if (!values.handoff) env.handoff = false;
    for (const file of values.stack ?? []) {
      const stack = await loadStackFile(file);
      if (stacks.has(stack.name)) throw new Error(`${file}: a stack named ${stack.name} is already loaded`);
      stacks.set(stack.name, stack);
    }
  } catch (error) {
    console.error(`fslm router: ${errorMessage(error)}`);
    return EXIT_USAGE;
  }
  try {
    await k8s?.start();
  } catch (error) {
    console.error(`fslm router: cannot read stacks from Kubernetes: ${errorMessage(error)}`);
    await k8s?.stop();
    return 1;
  }
  let nc;
  try {
    nc = await connect({ servers: values.nats!, name: 'fslm-router', maxReconnectAttempts: -1 });
  } catch (error) {
    console.error(`fslm router: cannot connect to NATS at ${values.nats}: ${errorMessage(error)}`);
    await k8s?.stop();
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
    await boundedShutdown([async () => started?.shutdown(), () => bus.close(), () => telemetry.shutdown(), async () => k8s?.stop()], SHUTDOWN_TIMEOUT_MS);
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
    async () => k8s?.stop(),
  ], SHUTDOWN_TIMEOUT_MS);
  if (!finished) console.error(`fslm router: shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
  return finished ? 0 : 1;
}
