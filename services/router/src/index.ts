// The router's public API: its command, a client of StackService, the stack definition loader and what
// a stage is asked (its rendered messages).
export { runRouter } from './main.ts';
export { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS } from './defaults.ts';
export { stackServiceClient } from './client.ts';
export { loadStackFile, parseStack, validateStack, StackDefinitionError } from './stack-loader.ts';
export { mergeParams, stageRequest } from './stage-prompt.ts';
export type { StackDefinition, StageDefinition } from './types.ts';
export { stackLimitProblems } from './request-limits.ts';
export { toStageLimits, type StageLimits } from './stage-limits.ts';
