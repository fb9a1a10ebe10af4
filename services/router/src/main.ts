// Composition root of the router: `fslm router --stack FILE --grpc HOST:PORT --http HOST:PORT --nats URL`.
import { parseArgs } from 'node:util';
import { joinHostPort, splitHostPort } from '../../shared/address.ts';
import { errorMessage, errors } from '../../shared/errors.ts';
import { SHUTDOWN_GRACE_MS } from '../../shared/grpc-serve.ts';
import { grpcServerCredentials } from '../../shared/grpc-tls.ts';
import { connectNats, logNatsStatus, parseNatsServers } from '../../shared/nats-connect.ts';
import { NATS_TRUST_OPTIONS, NATS_TRUST_USAGE, natsTrustOf, SERVER_TLS_OPTIONS, SERVER_TLS_USAGE, serverTlsOf, trustFlagsOf } from '../../shared/trust-options.ts';
import { startTelemetry } from '../../shared/telemetry.ts';
import { Admission } from './admission.ts';
import { NatsBus } from './bus-nats.ts';
import { parsePositiveInt, readRouterEnvironment } from './config.ts';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, DEFAULT_NATS_URL } from './defaults.ts';
import { startRouterGrpcServer } from './grpc-server.ts';
import { startRouterHttpServer } from './openai-http.ts';
import { RouterMetrics } from './router-metrics.ts';
import { loadStackFile } from './stack-loader.ts';
import { StackRunner } from './stack-runner.ts';
import type { StackDefinition } from './types.ts';

export const ROUTER_USAGE = `usage: fslm router --stack FILE [--stack FILE ...] [--grpc HOST:PORT] [--http HOST:PORT] [--nats URL[,URL...]]
                   [--max-in-flight N] [--no-handoff]
                   ${SERVER_TLS_USAGE}
                   ${NATS_TRUST_USAGE}
  defaults: --grpc ${DEFAULT_GRPC_ADDRESS} --http ${DEFAULT_HTTP_ADDRESS} --nats ${DEFAULT_NATS_URL}
  environment: FSLM_ROUTER_MAX_IN_FLIGHT, FSLM_ROUTER_HEARTBEAT_MS, FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS,
               FSLM_ROUTER_MAX_ATTEMPTS, FSLM_ROUTER_HANDOFF=0, FSLM_ROUTER_HANDOFF_MAX_IN_FLIGHT,
               OTEL_EXPORTER_OTLP_ENDPOINT`;

export async function runRouter(argv: string[]): Promise<number> {
  let values;
  let env;
  const stacks = new Map<string, StackDefinition>();
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: 'string', multiple: true },
        grpc: { type: 'string', default: DEFAULT_GRPC_ADDRESS },
        http: { type: 'string', default: DEFAULT_HTTP_ADDRESS },
        nats: { type: 'string', default: DEFAULT_NATS_URL },
        'max-in-flight': { type: 'string' },
        'no-handoff': { type: 'boolean', default: false },
        ...SERVER_TLS_OPTIONS,
        ...NATS_TRUST_OPTIONS,
      },
      strict: true,
    }));
    if (!values.stack?.length) throw new Error('--stack FILE is required');
    splitHostPort(values.grpc!, '--grpc');
    splitHostPort(values.http!, '--http');
    parseNatsServers(values.nats!);
    serverTlsOf(trustFlagsOf(values));
    natsTrustOf(trustFlagsOf(values));
    env = readRouterEnvironment();
    if (values['max-in-flight'] !== undefined) env.maxInFlight = parsePositiveInt(values['max-in-flight'], '--max-in-flight');
    if (values['no-handoff']) env.handoff = false;
    for (const file of values.stack) {
      const stack = await loadStackFile(file);
      if (stacks.has(stack.name)) throw new Error(`${file}: a stack named ${stack.name} is already loaded`);
      stacks.set(stack.name, stack);
    }
  } catch (error) {
    console.error(`fslm router: ${errorMessage(error)}\n${ROUTER_USAGE}`);
    return 2;
  }
  let nc;
  let credentials;
  try {
    credentials = grpcServerCredentials(serverTlsOf(trustFlagsOf(values)));
    nc = await connectNats({ servers: parseNatsServers(values.nats!), name: 'fslm-router', ...natsTrustOf(trustFlagsOf(values)) });
  } catch (error) {
    console.error(`fslm router: ${errorMessage(error)}`);
    return 1;
  }
  logNatsStatus(nc, (event) => console.log(JSON.stringify(event)));
  const bus = new NatsBus(nc, (event) => console.log(JSON.stringify(event)));
  try {
    await bus.ready();
  } catch (error) {
    console.error(`fslm router: ${errorMessage(error)}`);
    await nc.close();
    return 1;
  }
  const telemetry = startTelemetry(env.telemetry);
  const runner = new StackRunner({
    bus, stacks, admission: new Admission(env.maxInFlight), tracer: telemetry.tracer, metrics: new RouterMetrics(telemetry.meter),
    config: { heartbeatMs: env.heartbeatMs, heartbeatTimeoutMs: env.heartbeatTimeoutMs, maxAttempts: env.maxAttempts, handoffMaxInFlight: env.handoffMaxInFlight },
  });
  const httpAddress = splitHostPort(values.http!);
  let grpcServer;
  let httpServer;
  try {
    grpcServer = await startRouterGrpcServer(runner, stacks, values.grpc!, env.handoff, credentials);
    httpServer = await startRouterHttpServer({ runner, stacks, handoff: env.handoff, metricsHandler: telemetry.metricsHandler }, httpAddress.host, httpAddress.port,
      serverTlsOf(trustFlagsOf(values)));
  } catch (error) {
    console.error(`fslm router: cannot listen (gRPC ${values.grpc}, HTTP ${values.http}): ${errorMessage(error)}`);
    await grpcServer?.shutdown();
    await bus.close().catch(() => undefined);
    await telemetry.shutdown();
    return 1;
  }
  console.log(JSON.stringify({
    event: 'listening',
    grpc: joinHostPort(splitHostPort(values.grpc!).host, grpcServer.port),
    http: joinHostPort(httpAddress.host, httpServer.port),
    nats: values.nats,
    stacks: [...stacks.keys()],
    handoff: env.handoff,
    tls: serverTlsOf(trustFlagsOf(values)) ? (values['tls-client-auth'] ? 'mtls' : 'tls') : 'none',
  }));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Callers in flight get UNAVAILABLE (and their stages a cancel) before the doors close.
  runner.stop(errors.unavailable('the router is shutting down'));
  await Promise.race([runner.settled(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
  await Promise.all([grpcServer.shutdown(), httpServer.close()]);
  await bus.close().catch(() => undefined);
  await telemetry.shutdown();
  return 0;
}
