// The trust options the stage and the router share: TLS on their gRPC door (optionally requiring client
// certificates) and how they reach NATS (TLS, an NKey identity). Each resolver checks which options go
// together and throws an Error that names the flags; files are checked when they are used.
import type { GrpcClientTls, GrpcServerTls } from './grpc-tls.ts';
import type { NatsTlsFiles } from './nats-connect.ts';

/** TLS of a gRPC server, as given on the command line. */
export interface ServerTlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientAuth?: boolean;
}

/** TLS of a gRPC client, as given on the command line. */
export interface ClientTlsFlags {
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** How a process reaches NATS, as given on the command line. */
export interface NatsTrustFlags {
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
  natsNkey?: string;
}

export const SERVER_TLS_USAGE = `[--tls-cert FILE --tls-key FILE [--tls-ca FILE --tls-client-auth]]`;
export const NATS_TRUST_USAGE = `[--nats-ca FILE [--nats-cert FILE --nats-key FILE]] [--nats-nkey SEEDFILE]`;
export const CLIENT_TLS_USAGE = `[--tls-ca FILE [--tls-cert FILE --tls-key FILE]]`;

/** node:util parseArgs options of the server TLS flags. */
export const SERVER_TLS_OPTIONS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-client-auth': { type: 'boolean', default: false },
} as const;

/** node:util parseArgs options of the NATS trust flags. */
export const NATS_TRUST_OPTIONS = {
  'nats-ca': { type: 'string' },
  'nats-cert': { type: 'string' },
  'nats-key': { type: 'string' },
  'nats-nkey': { type: 'string' },
} as const;

/** node:util parseArgs options of the client TLS flags. */
export const CLIENT_TLS_OPTIONS = {
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** The server's TLS settings, or undefined for plaintext. */
export function serverTlsOf(flags: ServerTlsFlags): GrpcServerTls | undefined {
  if (!flags.tlsCert && !flags.tlsKey) {
    if (flags.tlsCa || flags.tlsClientAuth) throw new Error('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
    return undefined;
  }
  if (!flags.tlsCert || !flags.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  if (flags.tlsClientAuth && !flags.tlsCa) throw new Error('--tls-client-auth needs --tls-ca (the CA that signs client certificates)');
  if (flags.tlsCa && !flags.tlsClientAuth) throw new Error('--tls-ca on a server is the CA of client certificates: give --tls-client-auth too');
  return { certFile: flags.tlsCert, keyFile: flags.tlsKey, caFile: flags.tlsCa, requireClientCert: flags.tlsClientAuth ?? false };
}

/** A client's TLS settings, or undefined for plaintext. */
export function clientTlsOf(flags: ClientTlsFlags): GrpcClientTls | undefined {
  if (!flags.tlsCa) {
    if (flags.tlsCert || flags.tlsKey) throw new Error('--tls-cert and --tls-key need --tls-ca (the CA that signed the server)');
    return undefined;
  }
  if (!flags.tlsCert !== !flags.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  return { caFile: flags.tlsCa, certFile: flags.tlsCert, keyFile: flags.tlsKey };
}

/** TLS and identity towards NATS. */
export function natsTrustOf(flags: NatsTrustFlags): { tls?: NatsTlsFiles; nkeySeedFile?: string } {
  if (!flags.natsCa && (flags.natsCert || flags.natsKey)) throw new Error('--nats-cert and --nats-key need --nats-ca (the CA that signed the NATS servers)');
  if (!flags.natsCert !== !flags.natsKey) throw new Error('--nats-cert and --nats-key go together');
  return {
    tls: flags.natsCa ? { caFile: flags.natsCa, certFile: flags.natsCert, keyFile: flags.natsKey } : undefined,
    nkeySeedFile: flags.natsNkey,
  };
}

/** The trust flags of node:util parseArgs values (kebab-case keys) as the resolvers above take them. */
export function trustFlagsOf(values: Record<string, unknown>): ServerTlsFlags & ClientTlsFlags & NatsTrustFlags {
  const text = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  return {
    tlsCert: text('tls-cert'), tlsKey: text('tls-key'), tlsCa: text('tls-ca'), tlsClientAuth: values['tls-client-auth'] === true,
    natsCa: text('nats-ca'), natsCert: text('nats-cert'), natsKey: text('nats-key'), natsNkey: text('nats-nkey'),
  };
}
