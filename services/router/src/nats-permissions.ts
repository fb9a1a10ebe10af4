// Who may do what on NATS, derived from the stacks a router serves: one identity per stage (all its
// replicas share it) that may subscribe only to its own stage's subjects and publish only to reply
// inboxes, and one for the router that may publish only to its stacks' stage subjects and subscribe
// only to reply inboxes. nats-server enforces these (`fslm nats-config` renders them).
import { subjects } from '../../shared/bus-codec.ts';
import type { StackDefinition } from './types.ts';

/** Where replies go: nats.js inboxes (`_INBOX.<id>`, and `.<token>` under a muxed one). */
export const REPLY_SUBJECTS = '_INBOX.>';

/** One NATS identity and the subjects it may use. */
export interface NatsIdentity {
  /** A file-name-safe name: `router`, or `stage.<stack>.<stage>`. */
  name: string;
  role: 'router' | 'stage';
  publish: string[];
  subscribe: string[];
}

/**
 * The subjects of one stage: its run queue, cancels, describe, score, and everything under its replicas'
 * control subjects (the control subject itself and the `.bounce.<job>` subjects its heartbeats name as
 * their reply, where NATS answers no-responders).
 */
export function stageSubjects(subjectPrefix: string): string[] {
  return [subjects.run(subjectPrefix), subjects.cancel(subjectPrefix), subjects.replica(subjectPrefix, '*'), subjects.replica(subjectPrefix, '>'), subjects.describe(subjectPrefix), subjects.score(subjectPrefix)];
}

/**
 * The router's identity and one per stage of `stacks` (a stage named by two stacks with the same subject
 * prefix is one identity). Throws when two stages of different stacks share a subject prefix, since
 * their identities could not be told apart.
 */
export function natsIdentities(stacks: readonly StackDefinition[]): NatsIdentity[] {
  const stages = new Map<string, NatsIdentity>();
  const owner = new Map<string, string>();
  for (const stack of stacks) {
    for (const stage of stack.stages) {
      const name = `stage.${stack.name}.${stage.name}`;
      const holder = owner.get(stage.subjectPrefix);
      if (holder && holder !== name) throw new Error(`stages ${holder} and ${name} share the subject prefix ${stage.subjectPrefix}`);
      owner.set(stage.subjectPrefix, name);
      stages.set(name, { name, role: 'stage', subscribe: stageSubjects(stage.subjectPrefix), publish: [REPLY_SUBJECTS] });
    }
  }
  const router: NatsIdentity = {
    name: 'router', role: 'router',
    publish: [...owner.keys()].flatMap(stageSubjects),
    subscribe: [REPLY_SUBJECTS],
  };
  return [router, ...stages.values()];
}
