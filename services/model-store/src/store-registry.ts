// Which reader and writer serve a model URI's scheme: the registry of stores.
import type { ModelStoreOptions } from './config.ts';
import type { ModelUri } from './model-uri.ts';
import { DirectoryReader, DirectoryWriter } from './store-file.ts';
import { S3Reader, S3Writer } from './store-s3.ts';
import type { ArtifactReader, ArtifactWriter } from './types.ts';

/** A reader for the artifact a parsed URI names. */
export function readerFor(loc: ModelUri, options: ModelStoreOptions): ArtifactReader {
  return loc.scheme === 'file' ? new DirectoryReader(loc.path, loc.uri) : new S3Reader(loc, options.s3);
}

/** A writer for the artifact a parsed URI names. */
export function writerFor(loc: ModelUri, options: ModelStoreOptions): ArtifactWriter {
  return loc.scheme === 'file' ? new DirectoryWriter(loc.path, loc.uri) : new S3Writer(loc, options.s3);
}
