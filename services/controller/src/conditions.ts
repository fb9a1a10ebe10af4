// metav1-style conditions on a run: one small setter, and one helper per condition type that the
// reconciler calls with the run's phase. lastTransitionTime moves only when the status flips.
import type { Condition, ConditionType } from './types.ts';
import { ConditionType as C, RunPhase } from './types.ts';

export function setCondition(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : now.toISOString();
  const merged: Condition = { ...next, lastTransitionTime };
  return [...conditions.filter((c) => c.type !== next.type), merged].sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
}

const ORDER: ConditionType[] = [C.Created, C.Running, C.Suspended, C.Succeeded, C.Failed];

/** The five conditions as they follow from the run's phase, reason and message. */
export function conditionsFor(
  previous: Condition[] | undefined,
  phase: RunPhase,
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): Condition[] {
  let cs = previous ?? [];
  const set = (type: ConditionType, on: boolean, onReason: string, offReason: string, msg: string): void => {
    cs = setCondition(cs, { type, status: on ? 'True' : 'False', reason: on ? onReason : offReason, message: msg, observedGeneration: generation }, now);
  };
  set(C.Created, true, 'Created', 'Created', 'the controller accepted the run');
  set(C.Running, phase === RunPhase.Running, reason, phase === RunPhase.Pending ? 'WaitingForStages' : phase, phase === RunPhase.Running ? message : '');
  set(C.Suspended, phase === RunPhase.Suspended, reason, 'NotSuspended', phase === RunPhase.Suspended ? message : '');
  set(C.Succeeded, phase === RunPhase.Succeeded, reason, 'NotSucceeded', phase === RunPhase.Succeeded ? message : '');
  set(C.Failed, phase === RunPhase.Failed, reason, 'NotFailed', phase === RunPhase.Failed ? message : '');
  return cs;
}
