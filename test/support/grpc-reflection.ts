// Lists the services a gRPC server names through server reflection (grpc.reflection.v1), as grpcurl does.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ReflectionReply {
  list_services_response: { service: Array<{ name: string }> };
}

/**
 * The service names `address` lists through reflection.
 * @throws the call's error, DEADLINE_EXCEEDED after `timeoutMs` (default 10 s) included.
 */
export async function reflectedServices(address: string, timeoutMs = 10_000): Promise<string[]> {
  const reflectionPath = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const proto = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionPath, { keepCase: true })) as any; // generated shape of the reflection package
  const client = new proto.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  const call = client.ServerReflectionInfo({ deadline: Date.now() + timeoutMs });
  try {
    const reply = await new Promise<ReflectionReply>((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
      call.write({ list_services: '' });
    });
    return reply.list_services_response.service.map((s) => s.name);
  } finally {
    call.end();
    client.close();
  }
}
