// A real nats-server for a test, on a free loopback port (after nats.js nst/src/launcher.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface NatsServer {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startNatsServer(timeoutMs = 15_000): Promise<NatsServer> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '--http_port', '-1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start in ${timeoutMs} ms\n${log}`)), timeoutMs);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      log += `${line}\n`;
      const match = /Listening for client connections on [^\s]*:(\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('error', (error) => reject(error));
    void exited.then(() => reject(new Error(`nats-server exited\n${log}`)));
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
