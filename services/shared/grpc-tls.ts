// TLS for fslm's gRPC servers and clients: certificate, key and CA from files, re-read every few seconds
// (grpc-js's FileWatcherCertificateProvider), so a renewed certificate is served without a restart; with
// client authentication on, a server refuses a client whose certificate its CA did not sign. Errors name
// the files, never their contents.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { experimental } from '@grpc/grpc-js';

/** How often certificate, key and CA files are read again (ms). */
export const TLS_REFRESH_MS = 5000;

/** A server's TLS files. */
export interface GrpcServerTls {
  certFile: string;
  keyFile: string;
  /** The CA that signs client certificates; required with `requireClientCert`. */
  caFile?: string;
  /** mTLS: refuse clients without a certificate signed by `caFile`. */
  requireClientCert: boolean;
  /** How often the files are re-read (default TLS_REFRESH_MS). */
  refreshMs?: number;
}

/** A client's TLS files. */
export interface GrpcClientTls {
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** This client's certificate and key, for servers that require one. */
  certFile?: string;
  keyFile?: string;
  refreshMs?: number;
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

/** Reads the files once and checks that they form a usable TLS context (a clear error at startup, not at the first handshake). */
function check(files: { certFile?: string; keyFile?: string; caFile?: string }): void {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new Error('a TLS certificate needs its key, and a key its certificate');
  const cert = files.certFile ? read(files.certFile, 'TLS certificate') : undefined;
  const key = files.keyFile ? read(files.keyFile, 'TLS key') : undefined;
  const ca = files.caFile ? read(files.caFile, 'TLS CA certificate') : undefined;
  try {
    createSecureContext({ cert, key, ca });
  } catch (error) {
    // OpenSSL's message names what is wrong (e.g. "key values mismatch") without quoting the files.
    const reason = (error as Error).message.replace(/\n[\s\S]*/, '');
    throw new Error(`TLS files ${[files.certFile, files.keyFile, files.caFile].filter(Boolean).join(', ')} do not form a usable TLS context: ${reason}`);
  }
}

/** Server credentials: plaintext without `tls`; otherwise TLS from files that are re-read while it serves. */
export function grpcServerCredentials(tls: GrpcServerTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  if (tls.requireClientCert && !tls.caFile) throw new Error('client certificate authentication needs the CA that signs client certificates');
  check(tls);
  const refreshIntervalMs = tls.refreshMs ?? TLS_REFRESH_MS;
  const identity = new experimental.FileWatcherCertificateProvider({ certificateFile: tls.certFile, privateKeyFile: tls.keyFile, refreshIntervalMs });
  const clientCa = tls.requireClientCert
    ? new experimental.FileWatcherCertificateProvider({ caCertificateFile: tls.caFile, refreshIntervalMs })
    : null;
  // grpc-js 1.14 names the first two parameters (ca, identity) but passes them on as (identity, ca):
  // the first is the server's own certificate, the second (or null) the CA clients are checked against.
  return experimental.createCertificateProviderServerCredentials(identity, clientCa, tls.requireClientCert);
}

/** Channel credentials: plaintext without `tls`; otherwise TLS (with a client certificate when given) from re-read files. */
export function grpcChannelCredentials(tls: GrpcClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  check(tls);
  const refreshIntervalMs = tls.refreshMs ?? TLS_REFRESH_MS;
  const ca = new experimental.FileWatcherCertificateProvider({ caCertificateFile: tls.caFile, refreshIntervalMs });
  const identity = tls.certFile && tls.keyFile
    ? new experimental.FileWatcherCertificateProvider({ certificateFile: tls.certFile, privateKeyFile: tls.keyFile, refreshIntervalMs })
    : null;
  return experimental.createCertificateProviderChannelCredentials(ca, identity);
}
