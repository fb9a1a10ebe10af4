// Composition root of the router: `fslm router --stack FILE --grpc HOST:PORT --http HOST:PORT --nats URL`
// (or `--k8s-namespace NS --k8s-stack NAME` for Stack objects on a cluster).
import { joinHostPort, splitHostPort } from '../../shared/address.ts';
import { EXIT_USAGE, fslmCommand, hostPort, parseCommandLine, positiveInteger } from '../../shared/command-line.ts';
import { errorMessage, errors } from '../../shared/errors.ts';
import { grpcServerCredentials } from '../../shared/grpc-tls.ts';
import { connectNats, logNatsStatus, natsConnectionOptions, parseNatsServers, type NatsClientSettings } from '../../shared/nats-connect.ts';
import {
  addNatsTrustOptions, addServerTlsOptions, natsTrustOf, serverTlsOf, type NatsTrustFlags, type ServerTlsFlags,
} from '../../shared/trust-options.ts';
import { startTelemetry } from '../../shared/telemetry.ts';
import { Admission } from './admission.ts';
import { NatsBus } from './bus-nats.ts';
import { readRouterEnvironment } from './config.ts';
import { SHUTDOWN_GRACE_MS } from '../../shared/grpc-serve.ts';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, DEFAULT_NATS_URL, DESCRIBE_TIMEOUT_MS, SHUTDOWN_ANSWER_MS, SHUTDOWN_TIMEOUT_MS } from './defaults.ts';
import { startRouterGrpcServer } from './grpc-server.ts';
import { startRouterHttpServer } from './openai-http.ts';
import { RouterMetrics } from './router-metrics.ts';
import { boundedShutdown, firstStopSignal, within } from './shutdown.ts';
import { loadStackFile } from './stack-loader.ts';
import { k8sSource, type K8sStackSource } from './stack-source-k8s.ts';
import { StackRunner } from './stack-runner.ts';
import { StageLimitsCache } from './stage-limits.ts';
import type { StackDefinition } from './types.ts';

/** The flags of `fslm router`. */
interface RouterFlags extends ServerTlsFlags, NatsTrustFlags {
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
  const command = fslmCommand('fslm router', 'Serve stacks over NATS: gRPC StackService and an OpenAI-compatible HTTP API.')
    .option('--stack <FILE>', 'a stack definition (required; repeat it for more stacks)', (file: string, files: string[] | undefined) => [...(files ?? []), file])
    .option('--grpc <HOST:PORT>', 'gRPC StackService address (port 0 picks a free one)', hostPort, DEFAULT_GRPC_ADDRESS)
    .option('--http <HOST:PORT>', 'OpenAI-compatible HTTP address and /metrics', hostPort, DEFAULT_HTTP_ADDRESS)
    .option('--nats <URL[,URL...]>', 'the NATS servers the stages serve on (the client fails over between them)', DEFAULT_NATS_URL)
    .option('--max-in-flight <N>', 'requests run at once before RESOURCE_EXHAUSTED (default $FSLM_ROUTER_MAX_IN_FLIGHT)', positiveInteger)
    .option('--no-handoff', 'run each stage only after the previous one finished')
    .option('--k8s-namespace <NS>', 'serve Stack objects of this Kubernetes namespace (with --k8s-stack or --k8s-selector), following their changes')
    .option('--k8s-stack <NAME>', 'a Stack to serve (repeat it for more)', (name: string, names: string[] | undefined) => [...(names ?? []), name])
    .option('--k8s-selector <LABELS>', 'serve every Stack matching this label selector')
    .option('--kubeconfig <FILE>', 'for --k8s-*: a kubeconfig (default: $KUBECONFIG, else the in-cluster service account)')
    .addHelpText('after', `
environment: FSLM_ROUTER_MAX_IN_FLIGHT, FSLM_ROUTER_HEARTBEAT_MS, FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS,
             FSLM_ROUTER_MAX_ATTEMPTS, FSLM_ROUTER_HANDOFF=0, FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT,
             FSLM_ROUTER_DESCRIBE_TTL_MS, FSLM_ROUTER_CORS_ORIGINS, FSLM_ROUTER_SHUTDOWN_GRACE_MS,
             OTEL_EXPORTER_OTLP_ENDPOINT
TLS: --tls-cert/--tls-key serve gRPC and the HTTP door over TLS (re-read when they change).`);
  return addNatsTrustOptions(addServerTlsOptions(command));
}

export async function runRouter(argv: string[]): Promise<number> {
  const line = parseCommandLine<RouterFlags>(routerCommand(), argv, (flags) => {
    if (!flags.stack?.length && !flags.k8sNamespace) throw new Error('--stack FILE (or --k8s-namespace NS with --k8s-stack NAME or --k8s-selector LABELS) is required');
    parseNatsServers(flags.nats);
    serverTlsOf(flags);
    natsTrustOf(flags);
  });
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  let env;
  let credentials;
  let natsSettings: NatsClientSettings;
  let k8s: K8sStackSource | undefined;
  const stacks = new Map<string, StackDefinition>();
  const serverTls = serverTlsOf(values);
  try {
    // TLS files and the NATS identity are read now: a bad one is refused before anything starts.
    credentials = grpcServerCredentials(serverTls);
    natsSettings = { servers: parseNatsServers(values.nats), name: 'fslm-router', ...natsTrustOf(values) };
    natsConnectionOptions(natsSettings);
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
    nc = await connectNats(natsSettings);
  } catch (error) {
    console.error(`fslm router: ${errorMessage(error)}`);
    await k8s?.stop();
    return 1;
  }
  logNatsStatus(nc, (event) => console.log(JSON.stringify(event)));
  const bus = new NatsBus(nc, (event) => console.log(JSON.stringify(event)));
  try {
    await bus.ready();
  } catch (error) {
    // NATS refused the reply subscription: this identity may not act as the router.
    console.error(`fslm router: ${errorMessage(error)}`);
    await nc.close();
    await k8s?.stop();
    return 1;
  }
  const telemetry = startTelemetry(env.telemetry);
  const runner = new StackRunner({
    bus, stacks, admission: new Admission(env.maxInFlight), tracer: telemetry.tracer, metrics: new RouterMetrics(telemetry.meter),
    config: { heartbeatMs: env.heartbeatMs, heartbeatTimeoutMs: env.heartbeatTimeoutMs, maxAttempts: env.maxAttempts, handoffMaxInFlight: env.handoffMaxInFlight },
    limits: new StageLimitsCache(bus, { ttlMs: env.describeTtlMs, timeoutMs: DESCRIBE_TIMEOUT_MS }),
  });
  const httpAddress = splitHostPort(values.http!);
  let grpcServer;
  let httpServer;
  try {
    grpcServer = await startRouterGrpcServer(runner, stacks, values.grpc!, env.handoff, credentials);
    httpServer = await startRouterHttpServer({ runner, stacks, handoff: env.handoff, corsOrigins: env.corsOrigins, metricsHandler: telemetry.metricsHandler },
      httpAddress.host, httpAddress.port, serverTls);
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
    tls: serverTls ? (serverTls.requireClientCert ? 'mtls' : 'tls') : 'none',
  }));
  const signal = await firstStopSignal();
  console.log(JSON.stringify({ event: 'stopping', signal, timeout_ms: SHUTDOWN_TIMEOUT_MS }));
  const doors = { grpc: grpcServer, http: httpServer };
  // The doors take no new work; runs in flight may finish within the grace. Those still running then end
  // with UNAVAILABLE ("the router is shutting down", so callers can try another router) and their stages
  // get a cancel; the doors stay open SHUTDOWN_ANSWER_MS longer so that those answers are written.
  const doorsClosed = Promise.all([doors.grpc.shutdown(env.shutdownGraceMs + SHUTDOWN_ANSWER_MS), doors.http.close(env.shutdownGraceMs)]);
  await within(runner.settled(), env.shutdownGraceMs);
  runner.stop(errors.unavailable('the router is shutting down'));
  const finished = await boundedShutdown([
    () => doorsClosed,
    () => bus.close(),
    () => telemetry.shutdown(),
    async () => k8s?.stop(),
  ], SHUTDOWN_TIMEOUT_MS);
  if (!finished) console.error(`fslm router: shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
  return finished ? 0 : 1;
}
