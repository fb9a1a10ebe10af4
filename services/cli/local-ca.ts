// A local certificate authority made with the openssl command line: a CA (ECDSA P-256) and certificates
// it signs for servers (subject alternative names: IP addresses and DNS names) and clients. An existing
// CA in the directory is reused and existing certificates are kept, so clients given them stay valid
// across runs. Private keys are written with mode 0600.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Validity of the CA and of the certificates it signs (days). */
export const CA_DAYS = 3650;
export const CERT_DAYS = 825;

export interface CertSpec {
  /** File name stem and common name. */
  name: string;
  /** IP addresses and DNS names the certificate is valid for (servers). */
  ips?: string[];
  dns?: string[];
  /** What it may be used for: serving TLS, authenticating as a client, or both. */
  usage: 'server' | 'client' | 'both';
}

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface LocalCa {
  dir: string;
  caFile: string;
  /** The certificate and key of `name` (made by `makeLocalCa`). */
  files(name: string): CertFiles;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0];
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`);
  }
}

function extensions(spec: CertSpec): string {
  const names = [...(spec.ips ?? []).map((ip) => `IP:${ip}`), ...(spec.dns ?? []).map((d) => `DNS:${d}`)];
  const usage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[spec.usage];
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usage}`,
    ...(names.length ? [`subjectAltName=${names.join(',')}`] : []),
  ].join('\n');
}

/**
 * Makes (or reuses) the CA in `dir` and every certificate of `specs` that is missing. Throws when openssl
 * fails or a name is not a plain file name; a server certificate needs at least one IP or DNS name.
 */
export function makeLocalCa(dir: string, specs: readonly CertSpec[], caName = 'fslm local CA'): LocalCa {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  if (!existsSync(caFile) || !existsSync(caKey)) {
    openssl(['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', caFile, '-days', String(CA_DAYS), '-subj', `/CN=${caName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    chmodSync(caKey, 0o600);
  }
  const files = (name: string): CertFiles => ({ certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) });
  for (const spec of specs) {
    if (!NAME.test(spec.name) || spec.name === 'ca') throw new Error(`certificate name ${JSON.stringify(spec.name)} must be a plain file name other than "ca"`);
    if (spec.usage !== 'client' && !spec.ips?.length && !spec.dns?.length) throw new Error(`server certificate ${spec.name} needs an IP address or a DNS name`);
    const { certFile, keyFile } = files(spec.name);
    if (existsSync(certFile) && existsSync(keyFile)) continue;
    const csr = path.join(dir, `${spec.name}.csr`);
    const ext = path.join(dir, `${spec.name}.ext`);
    writeFileSync(ext, `${extensions(spec)}\n`);
    try {
      openssl(['req', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${spec.name}`], dir);
      chmodSync(keyFile, 0o600);
      openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', String(CERT_DAYS), '-extfile', ext], dir);
    } finally {
      rmSync(csr, { force: true });
      rmSync(ext, { force: true });
    }
  }
  return { dir, caFile, files };
}
