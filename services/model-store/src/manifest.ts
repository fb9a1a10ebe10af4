// The part of fslm.json the store relies on: the sha256 of every file, keyed by '/'-separated relative path.
// The manifest's own sha256 is the artifact's version (the same value a stage reports in Describe).
import { createHash } from 'node:crypto';
import { errors } from '../../shared/errors.ts';

/** The manifest's file name; its presence marks a complete artifact. */
export const MANIFEST_FILE = 'fslm.json';
const FORMAT = 1;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What the store reads from fslm.json. */
export interface StoreManifest {
  /** The manifest's bytes as stored. */
  bytes: Buffer;
  /** sha256 (hex) of `bytes`: identifies this exact model version. */
  version: string;
  /** Relative path → sha256 hex, for every file but fslm.json. */
  files: Map<string, string>;
}

/** Hex sha256 of a buffer. */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A relative path that stays inside the artifact: no absolute path, backslash, empty, `.` or `..` segment. */
export function isSafeRelativePath(rel: string): boolean {
  if (rel === '' || rel.startsWith('/') || rel.includes('\\') || rel.includes('\0')) return false;
  return rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * Parses fslm.json bytes. Throws FAILED_PRECONDITION (naming `where`) when it is not JSON, not format 1,
 * has no `files` map, lists a path that would leave the artifact directory, or lists a malformed sha256.
 */
export function parseManifest(bytes: Buffer, where: string): StoreManifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw errors.failedPrecondition(`${where}/${MANIFEST_FILE} is not valid JSON: ${(error as Error).message}`, error);
  }
  const m = value as { format?: unknown; files?: unknown } | null;
  if (!m || typeof m !== 'object') throw errors.failedPrecondition(`${where}/${MANIFEST_FILE}: not a JSON object`);
  if (m.format !== FORMAT) throw errors.failedPrecondition(`${where}/${MANIFEST_FILE}: unsupported format ${JSON.stringify(m.format)} (expected ${FORMAT})`);
  if (!m.files || typeof m.files !== 'object' || Array.isArray(m.files)) throw errors.failedPrecondition(`${where}/${MANIFEST_FILE}: files: expected an object of path → sha256`);
  const files = new Map<string, string>();
  for (const [rel, sum] of Object.entries(m.files as Record<string, unknown>)) {
    if (!isSafeRelativePath(rel) || rel === MANIFEST_FILE) throw errors.failedPrecondition(`${where}/${MANIFEST_FILE}: files: ${JSON.stringify(rel)} is not a relative path inside the artifact`);
    if (typeof sum !== 'string' || !SHA256_HEX.test(sum)) throw errors.failedPrecondition(`${where}/${MANIFEST_FILE}: files.${rel}: expected a lowercase hex sha256`);
    files.set(rel, sum);
  }
  if (files.size === 0) throw errors.failedPrecondition(`${where}/${MANIFEST_FILE}: files: lists no file`);
  return { bytes, version: sha256Hex(bytes), files };
}
