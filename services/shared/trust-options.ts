// The trust options the stage, the router and `fslm ask` share, as commander options: TLS on a gRPC door
// (optionally requiring client certificates), TLS as a gRPC client, and how a process reaches NATS (a
// server list, TLS, an NKey identity). Each resolver checks which options go together and throws an Error
// that names the flags; the files themselves are checked where they are read (grpc-tls.ts, nats-connect.ts).
import type { Command } from 'commander';
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

/** Adds --tls-cert, --tls-key, --tls-ca and --tls-client-auth (a server's door). */
export function addServerTlsOptions(command: Command): Command {
  return command
    .option('--tls-cert <FILE>', 'serve TLS with this certificate (PEM; re-read when it changes)')
    .option('--tls-key <FILE>', 'the certificate\'s private key (PEM)')
    .option('--tls-ca <FILE>', 'with --tls-client-auth: the CA that signs client certificates')
    .option('--tls-client-auth', 'require a client certificate signed by --tls-ca (mTLS)');
}

/** Adds --nats-ca, --nats-cert, --nats-key and --nats-nkey (a NATS client). */
export function addNatsTrustOptions(command: Command): Command {
  return command
    .option('--nats-ca <FILE>', 'connect to NATS over TLS, trusting this CA')
    .option('--nats-cert <FILE>', 'client certificate for NATS servers that verify clients')
    .option('--nats-key <FILE>', 'the client certificate\'s private key')
    .option('--nats-nkey <SEEDFILE>', 'this process\'s NATS identity: a file holding its NKey user seed (fslm nats-config)');
}

/** Adds --tls-ca, --tls-cert and --tls-key (a gRPC client). */
export function addClientTlsOptions(command: Command): Command {
  return command
    .option('--tls-ca <FILE>', 'call over TLS, trusting this CA')
    .option('--tls-cert <FILE>', 'client certificate, for servers that require one (mTLS)')
    .option('--tls-key <FILE>', 'the client certificate\'s private key');
}

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
