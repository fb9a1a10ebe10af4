// Free loopback TCP ports for child processes that must be told their ports up front (SeaweedFS, Jaeger, the
// OpenTelemetry Collector, Prometheus, nats-server). Two faults are possible with "bind port 0, read it, close":
// two calls in a row can return the same port once the first is closed, and another process can take a port
// between its release here and the child's bind. The first is ruled out by holding every port of one request
// open until all are chosen; the second by starting again on fresh ports when the start failed on a taken port.
import net from 'node:net';

/**
 * `count` distinct free loopback TCP ports (127.0.0.1). All are held open together while they are chosen, so
 * no two are the same, then released for the caller's child processes to bind.
 */
export async function freePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`freePorts: count must be a positive integer, got ${count}`);
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
  }
}

/** One free loopback TCP port; use freePorts for more than one, so that they differ. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** Whether a failed start lost a port to another process: EADDRINUSE in the error or in the child's log it carries. */
export function isPortConflict(error: unknown): boolean {
  const text = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}` : String(error);
  return /EADDRINUSE|address already in use/i.test(text);
}

/**
 * Runs `start` on `count` fresh distinct free ports; when it fails because one of them was taken in the
 * meantime (isPortConflict), runs it again on new ports, at most `attempts` times in all. Any other failure, or
 * the last conflict, is thrown as it is. `start` must stop whatever it started before it throws.
 */
export async function onFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePorts(count));
    } catch (error) {
      if (attempt >= attempts || !isPortConflict(error)) throw error;
    }
  }
}
