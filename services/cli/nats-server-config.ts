// A nats-server configuration for fslm: client listener, optional HTTP monitor, TLS (optionally verifying
// client certificates), a cluster with routes (verified by the same CA when TLS is on) and NKey users with
// per-subject permissions. nats-server reads JSON as configuration, so the object is printed as JSON.
// The configuration holds public keys and file paths only, never a secret.
import type { NatsIdentity } from '../router/src/nats-permissions.ts';

/** How long a TLS handshake may take on the server (seconds). */
export const NATS_TLS_TIMEOUT_S = 2;

export interface NatsServerTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** Require a client certificate signed by `caFile` from clients (routes always verify each other). */
  verifyClients: boolean;
}

export interface NatsServerConfigOptions {
  serverName: string;
  /** HOST:PORT for clients. */
  listen: string;
  /** HOST:PORT of the HTTP monitor (/varz, /connz, /routez). */
  monitor?: string;
  cluster?: { name: string; listen: string; routes: string[] };
  tls?: NatsServerTls;
  /** NKey users: public key and the identity whose permissions it gets. */
  users?: Array<{ nkey: string; identity: NatsIdentity }>;
}

/** The server configuration as an object (JSON.stringify it for nats-server -c). */
export function natsServerConfig(options: NatsServerConfigOptions): Record<string, unknown> {
  const config: Record<string, unknown> = { server_name: options.serverName, listen: options.listen };
  if (options.monitor) config.http = options.monitor;
  const tls = options.tls;
  if (tls) config.tls = { cert_file: tls.certFile, key_file: tls.keyFile, ca_file: tls.caFile, verify: tls.verifyClients, timeout: NATS_TLS_TIMEOUT_S };
  if (options.cluster) {
    config.cluster = {
      name: options.cluster.name,
      listen: options.cluster.listen,
      routes: options.cluster.routes,
      ...(tls ? { tls: { cert_file: tls.certFile, key_file: tls.keyFile, ca_file: tls.caFile, verify: true, timeout: NATS_TLS_TIMEOUT_S } } : {}),
    };
  }
  if (options.users) {
    config.authorization = {
      users: options.users.map(({ nkey, identity }) => ({
        nkey,
        permissions: { publish: { allow: identity.publish }, subscribe: { allow: identity.subscribe } },
      })),
    };
  }
  return config;
}
