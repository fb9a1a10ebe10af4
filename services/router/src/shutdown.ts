// The router's graceful shutdown, bounded: each step gets its own bound and the whole a stated one
// (SHUTDOWN_TIMEOUT_MS); whatever has not finished by then is left behind and the process exits anyway,
// e.g. when the NATS server is gone and cannot be drained.

/** Resolves true when `work` settles within `ms`, false otherwise (the work is then left behind). */
export function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work.then(() => true, () => true), late]).finally(() => clearTimeout(timer));
}

/** Waits for the first SIGINT or SIGTERM; a second one exits the process at once (status 130). */
export function firstStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const again = () => process.exit(130);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * Runs the shutdown steps in order within `timeoutMs` in all; true when all finished. The process is
 * made to exit `timeoutMs` later still if something left behind (a socket, a reconnect timer) would
 * keep it alive.
 */
export async function boundedShutdown(steps: Array<() => Promise<unknown>>, timeoutMs: number): Promise<boolean> {
  const all = (async () => {
    for (const step of steps) await step().catch(() => undefined);
  })();
  const finished = await within(all, timeoutMs);
  setTimeout(() => process.exit(process.exitCode ?? (finished ? 0 : 1)), timeoutMs).unref();
  return finished;
}
