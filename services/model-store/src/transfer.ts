// Fetch an artifact version from the store to a local directory, push a local one to the store, read a
// stored version: the operations `fslm model`, a stage's init step and the rollout use.
import path from 'node:path';
import type { ModelStoreOptions } from './config.ts';
import { copyArtifact, type CopyResult } from './copy-artifact.ts';
import { parseManifest } from './manifest.ts';
import { parseModelUri } from './model-uri.ts';
import { DirectoryReader, DirectoryWriter } from './store-file.ts';
import { readerFor, writerFor } from './store-registry.ts';

/**
 * Downloads the artifact at `uri` into `dir` (which must not exist, or be empty), checking every sha256 in
 * its fslm.json. On any failure nothing is left in `dir`. `expectVersion` pins the sha256 of fslm.json.
 * Errors: INVALID_ARGUMENT (bad URI), NOT_FOUND (no artifact there), FAILED_PRECONDITION (tampered, or `dir`
 * holds something else), UNAVAILABLE (the store cannot be reached).
 */
export async function fetchModel(uri: string, dir: string, options: ModelStoreOptions, expectVersion?: string): Promise<CopyResult> {
  const loc = parseModelUri(uri);
  const dest = path.resolve(dir);
  return copyArtifact(readerFor(loc, options), new DirectoryWriter(dest), { expectVersion });
}

/**
 * Uploads the artifact in local `dir` to `uri`, checking every sha256 in its fslm.json as it goes; fslm.json
 * is written last. A destination that holds the same version is left as it is; one that holds another
 * version (or stray objects) is refused: versions are immutable.
 */
export async function pushModel(dir: string, uri: string, options: ModelStoreOptions): Promise<CopyResult> {
  const loc = parseModelUri(uri);
  const src = path.resolve(dir);
  return copyArtifact(new DirectoryReader(src), writerFor(loc, options));
}

/** The version (sha256 of fslm.json) stored at `uri`, read without downloading the model files. */
export async function readModelVersion(uri: string, options: ModelStoreOptions): Promise<string> {
  const loc = parseModelUri(uri);
  const reader = readerFor(loc, options);
  return parseManifest(await reader.readManifest(), reader.where).version;
}
