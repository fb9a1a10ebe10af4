// The model store's settings from the environment (the only place it reads process.env). The S3 endpoint,
// region and credentials are not here: the AWS SDK reads its standard variables and files itself.
import os from 'node:os';
import path from 'node:path';
import type { S3Options } from './store-s3.ts';

/** Resolved settings of the model store. */
export interface ModelStoreOptions {
  s3: S3Options;
  /** Where `fslm up` keeps fetched s3:// artifacts, one folder per version (sha256 of fslm.json). */
  cacheDir: string;
}

/**
 * FSLM_S3_FORCE_PATH_STYLE=1|true turns path-style S3 addressing on (self-hosted stores usually need it);
 * FSLM_MODEL_CACHE names the cache folder (default: `model-store/` in FSLM_CACHE, itself ~/.cache/fslm by
 * default). Throws on a malformed boolean.
 */
export function readModelStoreEnvironment(env: Record<string, string | undefined> = process.env): ModelStoreOptions {
  const raw = (env.FSLM_S3_FORCE_PATH_STYLE ?? '').trim().toLowerCase();
  if (!['', '0', '1', 'true', 'false'].includes(raw)) {
    throw new Error(`FSLM_S3_FORCE_PATH_STYLE must be 1, 0, true or false, got ${JSON.stringify(env.FSLM_S3_FORCE_PATH_STYLE)}`);
  }
  const cache = env.FSLM_CACHE || path.join(env.HOME || os.homedir(), '.cache', 'fslm');
  return { s3: { forcePathStyle: raw === '1' || raw === 'true' }, cacheDir: env.FSLM_MODEL_CACHE || path.join(cache, 'model-store') };
}
