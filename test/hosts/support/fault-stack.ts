// The stack the multi-host fault tests run: two stages on the tiny model, `draft` long enough to be
// caught mid-request (two replicas on two hosts) and a short `answer` (one replica, or two).
import { StackBuilder } from '../../stack/support/stack-builder.ts';

/** Tokens the draft stage generates: enough to be interrupted, few enough to finish quickly on 2 cores. */
export const DRAFT_TOKENS = 400;

export function faultStack(name = 'hosts'): StackBuilder {
  return new StackBuilder(name)
    .stage({ name: 'draft', template: 'Write a long story about {input}.', params: { maxNewTokens: DRAFT_TOKENS, temperature: 0 } })
    .stage({ name: 'answer', template: 'Summarize: {stages.draft}', params: { maxNewTokens: 8, temperature: 0 } });
}

/** Router settings for the fault tests: frequent heartbeats, a replica lost after 1.5 s of silence, enough attempts. */
export const FAULT_ROUTER_ENV = {
  FSLM_ROUTER_HEARTBEAT_MS: '100',
  FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: '1500',
  FSLM_ROUTER_MAX_ATTEMPTS: '6',
};
