// Model URIs: where one artifact version lives. `file:///abs/dir` names a directory on a local or mounted
// volume; `s3://bucket/prefix` names a key prefix on any S3-compatible store. Nothing else is accepted.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errors } from '../../shared/errors.ts';

/** A parsed model URI. `uri` is the normalised text (no trailing slash). */
export type ModelUri =
  | { scheme: 'file'; uri: string; path: string }
  | { scheme: 's3'; uri: string; bucket: string; prefix: string };

/** URI schemes the store understands, as a const set. */
export const MODEL_URI_SCHEMES = ['file', 's3'] as const;

// S3 bucket names: 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending alphanumeric.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True when `ref` looks like a URI (`scheme://…`) rather than a path or a model name. */
export function isUri(ref: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]+:\/\//.test(ref);
}

/**
 * Parses a model URI. Throws INVALID_ARGUMENT (naming `what`) for an unknown scheme, a `file://` URI with a
 * host or a relative path, a bad bucket name, or a prefix with `.`/`..` segments.
 */
export function parseModelUri(text: string, what = 'model URI'): ModelUri {
  const raw = text.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (!scheme) throw errors.invalidArgument(`${what}: ${JSON.stringify(text)} is not a URI; use file:///absolute/dir or s3://bucket/prefix`);
  if (scheme === 'file') {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw errors.invalidArgument(`${what}: ${JSON.stringify(text)} is not a valid file URI`);
    }
    if (url.host !== '' && url.host !== 'localhost') {
      throw errors.invalidArgument(`${what}: file URI with a host (${raw}); use file:///absolute/dir`);
    }
    const dir = path.resolve(fileURLToPath(new URL(`file://${url.pathname}`)));
    if (dir === path.parse(dir).root) throw errors.invalidArgument(`${what}: ${raw} names the filesystem root`);
    return { scheme: 'file', uri: `file://${dir}`, path: dir };
  }
  if (scheme === 's3') {
    const rest = raw.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
    if (!BUCKET.test(bucket)) throw errors.invalidArgument(`${what}: ${JSON.stringify(bucket)} is not a valid S3 bucket name (${raw})`);
    const segments = prefix === '' ? [] : prefix.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw errors.invalidArgument(`${what}: the key prefix of ${raw} has an empty, "." or ".." segment`);
    }
    return { scheme: 's3', uri: `s3://${bucket}${prefix ? `/${prefix}` : ''}`, bucket, prefix };
  }
  throw errors.invalidArgument(`${what}: unsupported scheme ${scheme}:// in ${raw}; use file:///absolute/dir or s3://bucket/prefix`);
}
