// A timer for any delay: Node fires a setTimeout longer than 2^31-1 ms (24.8 days) at once, with only a
// warning, so a far deadline would end its work immediately; longer delays are re-armed in steps. Every
// deadline timer of the router and the stages goes through it.

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/** Calls `fn` once, at `at` (epoch ms) or at once when that has passed; Infinity never fires. */
export function timerAt(at: number, fn: () => void, now: () => number = Date.now): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  let cleared = false;
  const arm = () => {
    if (cleared || at === Infinity) return;
    const left = at - now();
    if (left > MAX_TIMER_MS) handle = setTimeout(arm, MAX_TIMER_MS);
    else handle = setTimeout(fn, Math.max(0, left));
  };
  arm();
  return {
    clear: () => {
      cleared = true;
      clearTimeout(handle);
    },
  };
}
