// TLS for an HTTP server (the router's OpenAI-compatible door) from the same files as its gRPC door:
// certificate, key and, with client authentication, the CA of client certificates; the files are re-read
// every TLS_REFRESH_MS and the server's secure context is replaced when they changed.
import { readFileSync } from 'node:fs';
import type { Server, ServerOptions } from 'node:https';
import { TLS_REFRESH_MS, type GrpcServerTls } from './grpc-tls.ts';

function contextOf(tls: GrpcServerTls): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ca: tls.caFile ? readFileSync(tls.caFile) : undefined };
}

/** https.createServer options for `tls` (the files were checked by grpcServerCredentials at startup). */
export function httpsServerOptions(tls: GrpcServerTls): ServerOptions {
  return { ...contextOf(tls), requestCert: tls.requireClientCert, rejectUnauthorized: tls.requireClientCert };
}

/**
 * Re-reads the files every `tls.refreshMs` (default TLS_REFRESH_MS) and gives `server` the new context
 * when they changed; a file that cannot be read or used keeps the last good context. Returns a stop function.
 */
export function reloadOnChange(server: Server, tls: GrpcServerTls): () => void {
  let last = contextOf(tls);
  const timer = setInterval(() => {
    try {
      const next = contextOf(tls);
      if (next.cert.equals(last.cert) && next.key.equals(last.key) && (next.ca?.equals(last.ca ?? Buffer.alloc(0)) ?? !last.ca)) return;
      server.setSecureContext(next);
      last = next;
    } catch {
      // A half-written file: the next round reads it again.
    }
  }, tls.refreshMs ?? TLS_REFRESH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
