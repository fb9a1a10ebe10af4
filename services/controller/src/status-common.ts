// Small helpers shared by the two status builders: reconcile-run.ts (Jobs and Pods) and
// local-status.ts (processes).
import { toDate } from './job-observation.ts';

/** Drops undefined fields, as the API server would, so statuses compare equal after a round trip. */
export const normalize = <T>(v: T): T => JSON.parse(JSON.stringify(v ?? null)) as T;

export const iso = (d: Date | string | undefined): string | undefined => (d === undefined ? undefined : toDate(d)?.toISOString());

/** When a run finished: its last stage's finish when all succeeded, else now. */
export function completionOf(finishTimes: readonly (Date | string | undefined)[], succeeded: boolean, now: Date): string {
  const last = Math.max(0, ...finishTimes.map((t) => (t === undefined ? 0 : toDate(t)?.getTime() ?? 0)));
  return new Date(succeeded && last > 0 ? last : now.getTime()).toISOString();
}
