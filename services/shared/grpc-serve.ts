// Serves a grpc-js server with the parts every fslm gRPC door has: grpc.health.v1, server reflection,
// a bind on the given address (plaintext unless TLS credentials are given; see grpc-tls.ts), and a
// shutdown that reports NOT_SERVING first.
import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';

/** How long a graceful shutdown may wait for calls in flight before it cuts them. */
export const SHUTDOWN_GRACE_MS = 5000;

export interface ServingServer {
  port: number;
  health: HealthImplementation;
  shutdown(): Promise<void>;
}

/**
 * Adds health (for `serviceName` and the whole server) and reflection of `serviceName` alone (a
 * definition also holds the services of the protos it imports, which this server does not serve),
 * then binds `address` (port 0 picks one) with `credentials` (plaintext by default).
 */
export async function serveWithHealth(
  server: grpc.Server, definition: PackageDefinition, serviceName: string, address: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<ServingServer> {
  const health = new HealthImplementation({ '': 'SERVING', [serviceName]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(definition, { services: [serviceName] }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    health,
    shutdown: () =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(serviceName, 'NOT_SERVING');
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
