// Loads the wire contract from proto/ once, with the same options the generated types assume.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

const cache = new Map<string, protoLoader.PackageDefinition>();

/** The package definition of some proto files, e.g. `fslm/v1/stage.proto` (relative to proto/). */
export function loadDefinition(files: string[]): protoLoader.PackageDefinition {
  const key = files.join('|');
  let definition = cache.get(key);
  if (!definition) {
    definition = protoLoader.loadSync(files, PROTO_LOADER_OPTIONS);
    cache.set(key, definition);
  }
  return definition;
}

/** The grpc object of some proto files, typed with the generated ProtoGrpcType of the caller's choice. */
export function loadGrpcObject<T>(files: string[]): T {
  return grpc.loadPackageDefinition(loadDefinition(files)) as unknown as T;
}
