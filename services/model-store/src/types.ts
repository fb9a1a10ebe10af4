// The seam between the model store's one copy procedure and the places an artifact can live.
import type { Readable } from 'node:stream';

/** One file of an artifact as the store lists it. */
export interface StoredFile {
  /** '/'-separated path relative to the artifact's root. */
  path: string;
  /** Size in bytes. */
  size: number;
}

/** Reads one artifact version from where it lives (a directory, an S3 prefix). */
export interface ArtifactReader {
  /** The URI (or path) read, for messages. */
  readonly where: string;
  /** The bytes of fslm.json. NOT_FOUND when there is no complete artifact there. */
  readManifest(): Promise<Buffer>;
  /** Every file under the artifact, fslm.json included. */
  list(): Promise<StoredFile[]>;
  /** One file's bytes as a stream. */
  open(file: StoredFile): Promise<Readable>;
}

/**
 * Writes one artifact version. Files go in first; `commit` writes fslm.json last, which is what makes the
 * artifact visible to readers. `abort` removes everything written so far; after a failure nothing is left
 * half-written where readers look.
 */
export interface ArtifactWriter {
  /** The URI (or path) written, for messages. */
  readonly where: string;
  /** The fslm.json bytes already stored at the destination, if a complete artifact is there. */
  existingManifest(): Promise<Buffer | undefined>;
  /** Prepares the destination; throws when it holds something that is not an artifact, or a partial one. */
  begin(): Promise<void>;
  /** Streams one file (never fslm.json) to the destination. */
  put(file: StoredFile, body: Readable): Promise<void>;
  /** Writes fslm.json last and makes the artifact visible. */
  commit(manifest: Buffer): Promise<void>;
  /** Removes everything this writer wrote. Safe to call more than once. */
  abort(): Promise<void>;
}
