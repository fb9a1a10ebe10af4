// A Python contender (python_peer.py) as one long-lived process asked one generation at a time, so that
// its rounds interleave with the engine's on the same machine.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python_peer.py');

export interface PythonPeer {
  /** What the peer reported when ready (versions, precision). */
  info: Record<string, unknown>;
  /** Greedy ids after `ids`, exactly `tokens` of them; `ms` is the generation's wall time inside Python. */
  generate(ids: number[], tokens: number): Promise<{ ms: number; ids: number[] }>;
  close(): Promise<void>;
}

/** Starts `python_peer.py ARGS`; rejects (and stops it) if it exits or fails before it is ready. */
export async function startPythonPeer(python: string, args: string[], timeoutMs = 300_000): Promise<PythonPeer> {
  const child = spawn(python, [SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`python peer ${args[0]} exited (${code}): ${stderr}`))));
  exited.catch(() => undefined);
  const next = async (): Promise<Record<string, unknown>> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`python peer ${args[0]}: no answer in ${timeoutMs} ms: ${stderr}`)), timeoutMs)));
    try {
      const line = await Promise.race([lines.next(), exited, timeout]);
      if (line.done) throw new Error(`python peer ${args[0]} closed its output: ${stderr}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    } finally {
      clearTimeout(timer);
    }
  };
  const close = async () => {
    child.stdin.end();
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited.catch(() => undefined);
    }
  };
  let info: Record<string, unknown>;
  try {
    info = await next();
  } catch (error) {
    await close();
    throw error;
  }
  let queue = Promise.resolve();
  return {
    info,
    generate: (ids, tokens) => {
      const answer = queue.then(async () => {
        child.stdin.write(`${JSON.stringify({ ids, tokens })}\n`);
        return (await next()) as unknown as { ms: number; ids: number[] };
      });
      queue = answer.then(() => undefined, () => undefined);
      return answer;
    },
    close,
  };
}
