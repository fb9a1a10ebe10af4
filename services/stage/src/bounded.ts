// Waiting with a bound: shutdown steps that may hang (a NATS server gone, a peer that never answers).

/** Resolves true when `work` settles (either way) within `ms`, false when the bound passed first. */
export async function within(work: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!work) return true;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = await Promise.race([work.then(() => true, () => true), bound]);
  clearTimeout(timer);
  return done;
}
