// Local directories for model URIs on one machine (`fslm up`): a file:// URI is used where it is (the stage
// checks every sha256 when it loads it); an s3:// artifact is fetched once into a cache folder named by its
// version, so a stack that names the same version twice, or a restart, downloads nothing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelStoreOptions } from './config.ts';
import { copyArtifact } from './copy-artifact.ts';
import { MANIFEST_FILE, parseManifest } from './manifest.ts';
import { parseModelUri } from './model-uri.ts';
import { DirectoryWriter } from './store-file.ts';
import { readerFor } from './store-registry.ts';

/** A model URI resolved to a local artifact directory. */
export interface LocalModel {
  uri: string;
  dir: string;
  /** How it got there: used in place, fetched now, or found in the cache. */
  source: 'local' | 'fetched' | 'cached';
}

/**
 * The local artifact directory for a `file://` or `s3://` model URI (NOT_FOUND when it holds no fslm.json),
 * fetching s3:// artifacts into
 * `options.cacheDir/<version>` when they are not there yet (sha256 checked as they stream). Errors as
 * `fetchModel`.
 */
export async function localModelDir(uri: string, options: ModelStoreOptions): Promise<LocalModel> {
  const loc = parseModelUri(uri);
  const reader = readerFor(loc, options);
  const bytes = await reader.readManifest();
  if (loc.scheme === 'file') return { uri: loc.uri, dir: loc.path, source: 'local' };
  const { version } = parseManifest(bytes, reader.where);
  const dir = path.join(options.cacheDir, version);
  const cached = await readFile(path.join(dir, MANIFEST_FILE)).catch(() => undefined);
  if (cached?.equals(bytes)) return { uri: loc.uri, dir, source: 'cached' };
  await copyArtifact(reader, new DirectoryWriter(dir), { manifest: bytes });
  return { uri: loc.uri, dir, source: 'fetched' };
}
