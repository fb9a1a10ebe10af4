// A real nats-server (scripts/nats-server's build) on loopback configured as `fslm nats-config` renders it
// for a stack: TLS that verifies client certificates, one NKey user per identity with the permissions
// derived from the stack. Its output goes to a file, so tests can read everything it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { makeLocalCa, type LocalCa } from '../../../services/cli/local-ca.ts';
import { seedFileOf, stackNatsConfig } from '../../../services/cli/nats-config.ts';
import { loadStackFile } from '../../../services/router/src/stack-loader.ts';
import { natsConnectionOptions } from '../../../services/shared/nats-connect.ts';
import { natsServerBinary } from '../../support/nats-cluster.ts';
import { onFreePorts } from '../../support/ports.ts';
import { waitFor } from '../../support/wait.ts';

export interface TrustedNats {
  /** tls://127.0.0.1:PORT */
  url: string;
  ca: LocalCa;
  keysDir: string;
  /** The nats-server's output so far. */
  output(): string;
  /** Connects as `identity` (router, stage.<stack>.<stage>) with a client certificate. */
  connectAs(identity: string, extra?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** Options to connect with, before any connection is made (for tests that expect a refusal). */
  optionsFor(identity: string | null, client?: 'client' | 'none'): ConnectionOptions;
  stop(): Promise<void>;
}

/**
 * Makes a CA in `dir` (a server certificate for 127.0.0.1 and a client certificate `client`), the stack's
 * NKey seeds in `dir/keys`, and starts nats-server with the configuration `fslm nats-config` would print.
 */
export async function startTrustedNats(dir: string, stackFile: string): Promise<TrustedNats> {
  const ca = makeLocalCa(path.join(dir, 'ca'), [
    { name: 'nats', ips: ['127.0.0.1'], usage: 'server' },
    { name: 'client', usage: 'client' },
  ]);
  const keysDir = path.join(dir, 'keys');
  const { port, output, stop } = await onFreePorts(1, async ([port]) => {
    const config = stackNatsConfig([await loadStackFile(stackFile)], keysDir, {
      serverName: 'trusted', listen: `127.0.0.1:${port}`,
      tls: { certFile: ca.files('nats').certFile, keyFile: ca.files('nats').keyFile, caFile: ca.caFile, verifyClients: true },
    });
    mkdirSync(dir, { recursive: true });
    const configFile = path.join(dir, 'nats.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const logFile = path.join(dir, 'nats-server.log');
    const log = openSync(logFile, 'w');
    const child: ChildProcess = spawn(natsServerBinary(), ['-c', configFile], { stdio: ['ignore', log, log] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const output = () => readFileSync(logFile, 'utf8');
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    try {
      // An exit before "ready" (a port taken meanwhile, a bad configuration) fails at once, with what it printed.
      const exitedEarly = exited.then(() => Promise.reject(new Error(`nats-server exited before it was ready\n${output()}`)));
      exitedEarly.catch(() => undefined);
      await Promise.race([waitFor(() => output().includes('Server is ready'), { timeoutMs: 30_000, what: 'nats-server to be ready' }), exitedEarly]);
    } catch (error) {
      await stop();
      throw error;
    }
    return { port, output, stop };
  });
  const url = `tls://127.0.0.1:${port}`;
  const optionsFor = (identity: string | null, client: 'client' | 'none' = 'client'): ConnectionOptions => natsConnectionOptions({
    servers: [url], name: `test-${identity ?? 'anonymous'}`,
    tls: { caFile: ca.caFile, ...(client === 'client' ? { certFile: ca.files('client').certFile, keyFile: ca.files('client').keyFile } : {}) },
    nkeySeedFile: identity ? seedFileOf(keysDir, identity) : undefined,
  });
  return {
    url, ca, keysDir, output, optionsFor, stop,
    connectAs: (identity, extra = {}) => connect({ ...optionsFor(identity), maxReconnectAttempts: 0, ...extra }),
  };
}
