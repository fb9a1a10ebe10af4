// The one procedure behind fetch, push and the cache: copy an artifact from a reader to a writer, checking
// every file against the sha256 in its fslm.json as it streams, and writing fslm.json only when all matched.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { errors } from '../../shared/errors.ts';
import { MANIFEST_FILE, parseManifest, sha256Hex } from './manifest.ts';
import type { ArtifactReader, ArtifactWriter, StoredFile } from './types.ts';

/** What a copy did. */
export interface CopyResult {
  from: string;
  to: string;
  /** sha256 (hex) of fslm.json: the model version. */
  version: string;
  /** Files copied, fslm.json not counted. */
  files: number;
  /** Bytes copied, fslm.json not counted. */
  bytes: number;
  /** True when the destination already held this exact version and nothing was copied. */
  alreadyThere: boolean;
}

/** Options of one copy. */
export interface CopyOptions {
  /** fslm.json bytes already read from the reader (so the version cannot change between two reads). */
  manifest?: Buffer;
  /** Refuse the artifact unless its fslm.json has this sha256 (hex): pins a rollout to one version. */
  expectVersion?: string;
}

/** A stream that passes `source` through and feeds every byte to `hash`; errors of `source` propagate. */
function hashing(source: Readable, hash: ReturnType<typeof createHash>): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  source.on('error', (error) => tap.destroy(error));
  return source.pipe(tap);
}

/**
 * Copies one artifact version. Refuses (FAILED_PRECONDITION, before anything is written) an artifact whose
 * fslm.json is malformed or not the expected version, that lacks a listed file or holds an unlisted one, or a
 * destination that holds another version; refuses (after removing what it wrote) a file whose sha256 does
 * not match fslm.json. NOT_FOUND when the source holds no fslm.json.
 */
export async function copyArtifact(reader: ArtifactReader, writer: ArtifactWriter, options: CopyOptions = {}): Promise<CopyResult> {
  const bytes0 = options.manifest ?? (await reader.readManifest());
  const manifest = parseManifest(bytes0, reader.where);
  if (options.expectVersion !== undefined && manifest.version !== options.expectVersion) {
    throw errors.failedPrecondition(
      `${reader.where}: ${MANIFEST_FILE} has sha256 ${manifest.version}, expected version ${options.expectVersion}; refusing the artifact`,
    );
  }
  const result: CopyResult = { from: reader.where, to: writer.where, version: manifest.version, files: manifest.files.size, bytes: 0, alreadyThere: false };
  const existing = await writer.existingManifest();
  if (existing !== undefined) {
    if (existing.equals(bytes0)) return { ...result, bytes: 0, alreadyThere: true };
    throw errors.failedPrecondition(
      `${writer.where} already holds another model version (${sha256Hex(existing)}, not ${manifest.version}); versions are never overwritten: choose another destination`,
    );
  }
  const stored = new Map((await reader.list()).map((f) => [f.path, f] as const));
  const missing = [...manifest.files.keys()].filter((rel) => !stored.has(rel));
  if (missing.length > 0) throw errors.failedPrecondition(`${reader.where}: ${missing.join(', ')} listed in ${MANIFEST_FILE} but missing; refusing the artifact`);
  const unlisted = [...stored.keys()].filter((rel) => rel !== MANIFEST_FILE && !manifest.files.has(rel));
  if (unlisted.length > 0) throw errors.failedPrecondition(`${reader.where}: ${unlisted.join(', ')} present but not listed in ${MANIFEST_FILE}; refusing the artifact`);

  await writer.begin();
  try {
    for (const [rel, want] of [...manifest.files].sort(([a], [b]) => a.localeCompare(b))) {
      const file: StoredFile = stored.get(rel)!;
      const hash = createHash('sha256');
      const source = await reader.open(file);
      try {
        await writer.put(file, hashing(source, hash));
      } finally {
        source.destroy(); // releases the file or connection whether the write finished or failed
      }
      const got = hash.digest('hex');
      if (got !== want) {
        throw errors.failedPrecondition(`${reader.where}/${rel}: sha256 ${got} does not match ${MANIFEST_FILE} (${want}); refusing the artifact`);
      }
      result.bytes += file.size;
    }
    await writer.commit(bytes0);
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
  return result;
}
