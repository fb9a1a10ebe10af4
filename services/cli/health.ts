// `fslm health`: one grpc.health.v1 Check of a gRPC door, plaintext or over TLS (with a client
// certificate for a door that requires one). Kubernetes runs it as the exec probe of a door with TLS,
// since kubelet's native gRPC probe speaks plaintext only. Exit 0 when the service is SERVING, 1 when it
// is not or cannot be reached in time, 2 when the command line is wrong.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { EXIT_USAGE, fslmCommand, hostPort, parseCommandLine, positiveInteger } from '../shared/command-line.ts';
import { errorMessage } from '../shared/errors.ts';
import { addClientTlsOptions, clientTlsOf, type ClientTlsFlags } from '../shared/trust-options.ts';

/** The default bound of the whole check (connect, handshake and answer), in ms. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 4000;

interface HealthFlags extends ClientTlsFlags {
  grpc: string;
  service: string;
  timeout: number;
  verifyName: boolean;
}

function healthCommand() {
  const command = fslmCommand('fslm health', 'Check a gRPC door\'s health (grpc.health.v1): exit 0 when SERVING, 1 otherwise (a Kubernetes exec probe for doors with TLS).')
    .requiredOption('--grpc <HOST:PORT>', 'the door to check', hostPort)
    .option('--service <NAME>', 'the service whose health is asked (empty: the whole server)', '')
    .option('--timeout <MS>', 'bound of the whole check', positiveInteger, DEFAULT_HEALTH_TIMEOUT_MS)
    .option('--no-verify-name', 'with --tls-ca: check the served certificate\'s chain but not its name (a probe dialling its own pod)');
  return addClientTlsOptions(command);
}

/** Channel credentials of the check: plaintext, or TLS from files read once (a probe lives for one call). */
function credentials(flags: HealthFlags): grpc.ChannelCredentials {
  const tls = clientTlsOf(flags);
  if (!tls) return grpc.credentials.createInsecure();
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  };
  const ca = read(tls.caFile, 'TLS CA certificate');
  const key = tls.keyFile ? read(tls.keyFile, 'TLS key') : null;
  const cert = tls.certFile ? read(tls.certFile, 'TLS certificate') : null;
  return grpc.credentials.createSsl(ca, key, cert, flags.verifyName ? undefined : { checkServerIdentity: () => undefined });
}

type HealthClient = grpc.Client & {
  check(request: { service: string }, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: { status: string }) => void): void;
};

/**
 * The serving status of `service` at `address` ('SERVING', 'NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN'),
 * within `timeoutMs`; rejects with the call's error when the door cannot be reached, refuses the
 * handshake or does not answer in time.
 */
export function checkHealth(address: string, service: string, creds: grpc.ChannelCredentials, timeoutMs: number): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(healthService, 'Health') as unknown as new (address: string, creds: grpc.ChannelCredentials) => HealthClient;
  const client = new Client(address, creds);
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (error, reply) => {
      client.close();
      if (error) reject(error);
      else resolve(String(reply?.status ?? 'UNKNOWN'));
    });
  });
}

export async function runHealth(argv: string[]): Promise<number> {
  const line = parseCommandLine<HealthFlags>(healthCommand(), argv, (flags) => {
    clientTlsOf(flags);
  });
  if (!line.ok) return line.exitCode;
  const flags = line.opts;
  let creds;
  try {
    creds = credentials(flags);
  } catch (error) {
    console.error(`fslm health: ${errorMessage(error)}`);
    return EXIT_USAGE;
  }
  const what = `${flags.grpc}${flags.service ? ` (${flags.service})` : ''}`;
  try {
    const status = await checkHealth(flags.grpc, flags.service, creds, flags.timeout);
    console.log(`${what}: ${status}`);
    return status === 'SERVING' ? 0 : 1;
  } catch (error) {
    console.error(`fslm health: ${what}: ${errorMessage(error)}`);
    return 1;
  }
}
