// Serves a grpc-js server with the parts every fslm gRPC door has: grpc.health.v1, server reflection,
// a bind on the given address (plaintext unless TLS credentials are given; see grpc-tls.ts), and a
// shutdown that reports NOT_SERVING first.
//
// Reflection serves the FileDescriptorProtos that protoc wrote (services/shared/generated/descriptors.ts,
// by scripts/gen-proto), byte for byte, not the ones proto-loader derives: those name map entries
// wrongly ("invalid map: incorrect implicit map entry name" in grpcurl and other protobuf-go clients).
// A call's deadline is honoured however far it is (grpc-deadline.ts).
import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition, ProtobufTypeDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { FILE_DESCRIPTOR_PROTOS, SERVICE_NAMES } from './generated/descriptors.ts';
import { honourFarDeadlines } from './grpc-deadline.ts';

/** How long a graceful shutdown may wait for calls in flight before it cuts them. */
export const SHUTDOWN_GRACE_MS = 5000;
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';
export const REFLECTION_SERVICE_NAMES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'] as const;

export interface ServingServer {
  port: number;
  health: HealthImplementation;
  /** Reports NOT_SERVING, lets the calls in flight finish for `graceMs` (default SHUTDOWN_GRACE_MS), then cuts them. */
  shutdown(graceMs?: number): Promise<void>;
}

let protocDefinition: PackageDefinition | undefined;

/**
 * protoc's descriptors in the one shape @grpc/reflection reads: the `fileDescriptorProtos` of a
 * package definition's entries (it decodes and re-encodes them unchanged, byte for byte). The entry
 * holds files rather than one message or service, hence the cast to the definition type it is read as.
 */
function protocDescriptors(): PackageDefinition {
  const files: ProtobufTypeDefinition = {
    format: 'Protocol Buffer 3 FileDescriptorSet',
    type: {},
    fileDescriptorProtos: Object.values(FILE_DESCRIPTOR_PROTOS).map((b64) => Buffer.from(b64, 'base64')),
  };
  protocDefinition ??= { 'protoc descriptors': files } as unknown as PackageDefinition;
  return protocDefinition;
}

/** The services a door with `serviceName` serves, as reflection lists them. */
export function servedServices(serviceName: string): string[] {
  return [serviceName, HEALTH_SERVICE_NAME, ...REFLECTION_SERVICE_NAMES];
}

/** Options of {@link serveWithHealth}. */
export interface ServeOptions {
  /**
   * What health reports ('' and the service) from the moment the port is bound: SERVING (the default)
   * for a door that can take work at once, NOT_SERVING for one whose caller reports SERVING itself later.
   */
  initialStatus?: 'SERVING' | 'NOT_SERVING';
}

/**
 * Adds health (for `serviceName` and the whole server) and reflection of exactly the services this
 * server serves (servedServices: not those of the protos it merely imports), then binds `address`
 * (port 0 picks one) with `credentials` (plaintext by default). `definition` is what the server's handlers
 * were built from.
 * @throws when `serviceName` is missing from `definition` or from protoc's descriptors (run scripts/gen-proto).
 */
export async function serveWithHealth(
  server: grpc.Server, definition: PackageDefinition, serviceName: string, address: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(), options: ServeOptions = {},
): Promise<ServingServer> {
  honourFarDeadlines();
  if (!(serviceName in definition)) throw new Error(`${serviceName} is not in the server's proto definition`);
  const missing = servedServices(serviceName).filter((name) => !SERVICE_NAMES.includes(name));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing from services/shared/generated/descriptors.ts: run scripts/gen-proto`);
  const initial = options.initialStatus ?? 'SERVING';
  const health = new HealthImplementation({ '': initial, [serviceName]: initial });
  health.addToServer(server);
  new ReflectionService(protocDescriptors(), { services: servedServices(serviceName) }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    health,
    shutdown: (graceMs = SHUTDOWN_GRACE_MS) =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(serviceName, 'NOT_SERVING');
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
