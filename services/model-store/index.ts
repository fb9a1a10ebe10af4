// The model store: one contract for where stage model artifacts live and how they move. The trainer writes
// (services/trainer, boto3 and plain files), a stage's init step reads (`fslm model fetch`), and a rollout
// points a stage at a version URI. See README.md.
export { readModelStoreEnvironment, type ModelStoreOptions } from './src/config.ts';
export { copyArtifact, type CopyOptions, type CopyResult } from './src/copy-artifact.ts';
export { MANIFEST_FILE, parseManifest, type StoreManifest } from './src/manifest.ts';
export { localModelDir, type LocalModel } from './src/model-cache.ts';
export { MODEL_URI_SCHEMES, isUri, parseModelUri, type ModelUri } from './src/model-uri.ts';
export { fetchModel, pushModel, readModelVersion } from './src/transfer.ts';
export type { ArtifactReader, ArtifactWriter, StoredFile } from './src/types.ts';
