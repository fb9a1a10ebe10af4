// Whether a process runs, for the tests that check that fslm leaves no process behind.
import { readFileSync } from 'node:fs';

/** True while `pid` runs (a zombie, whose parent has not reaped it, has stopped running). Linux /proc. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
