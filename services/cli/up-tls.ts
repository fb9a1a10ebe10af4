// What `fslm up --tls` adds to the single-machine stack: a local CA (services/cli/local-ca.ts) with a
// certificate for 127.0.0.1/localhost that the router, the stages and nats-server serve, and a client
// certificate (for fslm ask, the stages' and the router's NATS connections, and any other client); gRPC
// doors that require client certificates; nats-server with TLS that verifies clients and one NKey identity
// per stage and for the router, each allowed only its own subjects (`fslm nats-config`).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StackDefinition } from '../router/src/types.ts';
import { makeLocalCa } from './local-ca.ts';
import { seedFileOf, stackNatsConfig } from './nats-config.ts';

export interface UpTrust {
  dir: string;
  caFile: string;
  client: { certFile: string; keyFile: string };
  /** The nats-server configuration file (listens on 127.0.0.1, a free port). */
  natsConfigFile: string;
  /** Arguments that give a stage (or, with 'router', the router) its TLS files and NATS identity. */
  argsFor(identity: 'router' | { stack: string; stage: string }): string[];
  /** The flags fslm ask needs. */
  askFlags: string[];
}

/** Makes (or reuses) the CA, certificates and NKey seeds in `dir` and writes the nats-server configuration. */
export function prepareUpTrust(dir: string, stack: StackDefinition): UpTrust {
  const ca = makeLocalCa(dir, [
    { name: 'server', ips: ['127.0.0.1'], dns: ['localhost'], usage: 'server' },
    { name: 'client', usage: 'client' },
  ]);
  const server = ca.files('server');
  const client = ca.files('client');
  const keysDir = path.join(dir, 'nkeys');
  const config = stackNatsConfig([stack], keysDir, {
    serverName: 'fslm-up', listen: '127.0.0.1:-1',
    tls: { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.caFile, verifyClients: true },
  });
  const natsConfigFile = path.join(dir, `nats-${stack.name}.json`);
  writeFileSync(natsConfigFile, `${JSON.stringify(config, null, 2)}\n`);
  return {
    dir, caFile: ca.caFile, client, natsConfigFile,
    argsFor: (identity) => [
      '--tls-cert', server.certFile, '--tls-key', server.keyFile, '--tls-ca', ca.caFile, '--tls-client-auth',
      '--nats-ca', ca.caFile, '--nats-cert', client.certFile, '--nats-key', client.keyFile,
      '--nats-nkey', seedFileOf(keysDir, identity === 'router' ? 'router' : `stage.${identity.stack}.${identity.stage}`),
    ],
    askFlags: ['--tls-ca', ca.caFile, '--tls-cert', client.certFile, '--tls-key', client.keyFile],
  };
}
