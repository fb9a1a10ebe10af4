// The router's public API: its command, a client of StackService and the stack definition loader.
export { runRouter } from './main.ts';
export { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS } from './defaults.ts';
export { stackServiceClient } from './client.ts';
export { loadStackFile, parseStack, validateStack, StackDefinitionError } from './stack-loader.ts';
export type { StackDefinition, StageDefinition } from './types.ts';
