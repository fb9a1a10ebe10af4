// How fslm's processes connect to NATS: any number of servers (a comma-separated list on the command
// line; the client fails over between them and learns the rest of a cluster from the servers), optional
// TLS (the servers' CA, a client certificate for servers that verify clients) and an NKey identity read
// from a seed file. A seed or key never appears in an error or a log line: errors name the file only.
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { connect, nkeyAuthenticator, nkeys, type ConnectionOptions, type NatsConnection } from 'nats';
import { errorMessage } from './errors.ts';

/** How long a client waits before it tries a server it was connected to again (ms). */
export const NATS_RECONNECT_WAIT_MS = 500;
/** How often a client pings its server, and how many unanswered pings mark the server as gone. */
export const NATS_PING_INTERVAL_MS = 5000;
export const NATS_MAX_PINGS_OUT = 3;

/** TLS towards the NATS servers: the CA that signed them; a client certificate and key when they verify clients. */
export interface NatsTlsFiles {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

export interface NatsClientSettings {
  /** Server URLs (nats://HOST:PORT, tls://HOST:PORT or HOST:PORT). */
  servers: string[];
  /** The connection's name as the servers show it (monitoring, logs). */
  name: string;
  tls?: NatsTlsFiles;
  /** A file holding this identity's NKey user seed (SU...). */
  nkeySeedFile?: string;
}

/**
 * Splits `--nats` (one URL or a comma-separated list) into server URLs. Throws an Error naming `flag`
 * for an empty entry, an unknown scheme or a missing or bad port.
 */
export function parseNatsServers(value: string, flag = '--nats'): string[] {
  const servers = value.split(',').map((s) => s.trim());
  for (const [i, server] of servers.entries()) {
    const which = `${flag}: server ${i + 1} of ${servers.length}`;
    // Credentials do not belong in a URL; nothing that may hold one is quoted back.
    if (/^[^/]*\/\/[^/@]*@/.test(server) || (!server.includes('://') && server.includes('@'))) {
      throw new Error(`${which}: put credentials in a seed file (--nats-nkey FILE), not in the URL`);
    }
    if (!server) throw new Error(`${which} is empty (a comma-separated list of nats://HOST:PORT)`);
    let url: URL;
    try {
      url = new URL(server.includes('://') ? server : `nats://${server}`);
    } catch {
      throw new Error(`${which} (${JSON.stringify(server)}) is not a NATS URL (nats://HOST:PORT or tls://HOST:PORT)`);
    }
    if (url.protocol !== 'nats:' && url.protocol !== 'tls:') throw new Error(`${which} (${JSON.stringify(server)}) must use nats:// or tls://`);
    if (!url.hostname || (url.port !== '' && !(Number(url.port) > 0))) throw new Error(`${which} (${JSON.stringify(server)}) needs a host and a port`);
  }
  return servers;
}

/** Reads and checks an NKey user seed file; the error names the file, never its content. */
export function readNkeySeed(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new Error(`cannot read the NKey seed file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const seed = new TextEncoder().encode(text);
  try {
    const pair = nkeys.fromSeed(seed);
    if (!pair.getPublicKey().startsWith('U')) throw new Error('not a user key');
  } catch {
    throw new Error(`${file} does not hold an NKey user seed (a line starting with SU, as \`fslm nats-config\` writes)`);
  }
  return seed;
}

/** Checks that every TLS file can be read (their contents are checked by the TLS handshake). */
function checkReadable(files: NatsTlsFiles): void {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new Error('a NATS client certificate needs its key, and a key its certificate');
  for (const file of [files.caFile, files.certFile, files.keyFile]) {
    if (file === undefined) continue;
    try {
      readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
    }
  }
}

/** nats.js connection options for `settings`: reconnects forever, fails over between servers, pings every few seconds. */
export function natsConnectionOptions(settings: NatsClientSettings): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: settings.servers,
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: NATS_RECONNECT_WAIT_MS,
    pingInterval: NATS_PING_INTERVAL_MS,
    maxPingOut: NATS_MAX_PINGS_OUT,
  };
  if (settings.tls) {
    checkReadable(settings.tls);
    const hosts = settings.servers.map((s) => new URL(s.includes('://') ? s : `nats://${s}`).hostname.replace(/^\[(.*)\]$/, '$1'));
    options.tls = {
      caFile: settings.tls.caFile, certFile: settings.tls.certFile, keyFile: settings.tls.keyFile,
      // nats.js upgrades the socket without naming the server when it is given by IP address, so Node checks
      // the certificate against "localhost": accept a certificate issued for the name Node saw or for one of
      // the servers this client was given (the chain is verified against the CA either way).
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const direct = checkServerIdentity(host, cert);
        return direct === undefined || hosts.some((h) => checkServerIdentity(h, cert) === undefined) ? undefined : direct;
      },
    } as ConnectionOptions['tls'];
  }
  if (settings.nkeySeedFile) options.authenticator = nkeyAuthenticator(readNkeySeed(settings.nkeySeedFile));
  return options;
}

/**
 * Connects with `settings`; the error names the servers and the reason the server gave (e.g.
 * "Authorization Violation"), never a credential.
 */
export async function connectNats(settings: NatsClientSettings): Promise<NatsConnection> {
  const options = natsConnectionOptions(settings);
  try {
    return await connect(options);
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${settings.servers.join(',')}: ${errorMessage(error)}`);
  }
}

/**
 * Reports the connection's changes (disconnect, reconnect to which server, errors the server sent)
 * as JSON events through `log` until the connection closes.
 */
export function logNatsStatus(nc: NatsConnection, log: (event: Record<string, unknown>) => void): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'pingTimer' || status.type === 'reconnecting') continue;
      log({ event: 'nats', type: status.type, data: typeof status.data === 'string' ? status.data : errorMessage(status.data) });
    }
  })().catch(() => undefined);
}
