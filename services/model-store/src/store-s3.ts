// Artifacts under a key prefix of any S3-compatible store, through the AWS SDK (@aws-sdk/client-s3): the
// endpoint, region and credentials come from the SDK's standard sources (AWS_ENDPOINT_URL[_S3], AWS_REGION,
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws/config and credentials, a web identity on a cluster).
// fslm.json is put last and deleted first, so a reader sees either no artifact or a complete one.
import {
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { errors } from '../../shared/errors.ts';
import { MANIFEST_FILE } from './manifest.ts';
import type { ModelUri } from './model-uri.ts';
import type { ArtifactReader, ArtifactWriter, StoredFile } from './types.ts';

/** How the S3 client is made; everything not here comes from the SDK's standard configuration chain. */
export interface S3Options {
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted S3-compatible stores need. */
  forcePathStyle: boolean;
}

type S3Location = Extract<ModelUri, { scheme: 's3' }>;

/** One client per process and addressing style: the SDK pools connections per client. */
const clients = new Map<boolean, S3Client>();
function clientFor(options: S3Options): S3Client {
  let client = clients.get(options.forcePathStyle);
  if (!client) {
    client = new S3Client({ forcePathStyle: options.forcePathStyle });
    clients.set(options.forcePathStyle, client);
  }
  return client;
}

function key(loc: S3Location, rel: string): string {
  return loc.prefix ? `${loc.prefix}/${rel}` : rel;
}

/** Turns an SDK failure into an fslm error that names the URI and what was being done. */
function storeError(loc: S3Location, doing: string, error: unknown): Error {
  if (error instanceof NoSuchKey) return errors.notFound(`${loc.uri}: ${doing}: no such object`);
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const name = (error as Error)?.name ?? 'Error';
  const message = `${loc.uri}: ${doing}: ${name}: ${(error as Error)?.message ?? String(error)}`;
  if (name === 'NoSuchBucket') return errors.notFound(message);
  if (status === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'CredentialsProviderError') {
    return errors.failedPrecondition(`${message} (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS profile)`, error);
  }
  if (/Region is missing/i.test(message)) return errors.failedPrecondition(`${message} (set AWS_REGION, e.g. us-east-1 for most S3-compatible stores)`, error);
  return errors.unavailable(message, error);
}

async function listAll(client: S3Client, loc: S3Location): Promise<StoredFile[]> {
  const out: StoredFile[] = [];
  const base = loc.prefix ? `${loc.prefix}/` : '';
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: base, ContinuationToken: token }))
      .catch((error) => Promise.reject(storeError(loc, 'list', error)));
    for (const obj of page.Contents ?? []) {
      if (obj.Key && !obj.Key.endsWith('/')) out.push({ path: obj.Key.slice(base.length), size: obj.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function getBytes(client: S3Client, loc: S3Location, rel: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key(loc, rel) }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Reads an artifact under an S3 prefix. */
export class S3Reader implements ArtifactReader {
  readonly where: string;
  private readonly client: S3Client;

  constructor(private readonly loc: S3Location, options: S3Options) {
    this.where = loc.uri;
    this.client = clientFor(options);
  }

  async readManifest(): Promise<Buffer> {
    try {
      return await getBytes(this.client, this.loc, MANIFEST_FILE);
    } catch (error) {
      if (error instanceof NoSuchKey) throw errors.notFound(`${this.loc.uri} holds no ${MANIFEST_FILE}: not a complete fslm artifact`);
      throw storeError(this.loc, `read ${MANIFEST_FILE}`, error);
    }
  }

  list(): Promise<StoredFile[]> {
    return listAll(this.client, this.loc);
  }

  async open(file: StoredFile): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: key(this.loc, file.path) }))
      .catch((error) => Promise.reject(storeError(this.loc, `read ${file.path}`, error)));
    return res.Body as Readable;
  }
}

/** Writes an artifact under an S3 prefix; the prefix must hold nothing, or the same version. */
export class S3Writer implements ArtifactWriter {
  readonly where: string;
  private readonly client: S3Client;
  private readonly written: string[] = [];

  constructor(private readonly loc: S3Location, options: S3Options) {
    this.where = loc.uri;
    this.client = clientFor(options);
  }

  async existingManifest(): Promise<Buffer | undefined> {
    try {
      return await getBytes(this.client, this.loc, MANIFEST_FILE);
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw storeError(this.loc, `read ${MANIFEST_FILE}`, error);
    }
  }

  async begin(): Promise<void> {
    const present = await listAll(this.client, this.loc);
    if (present.length > 0) {
      throw errors.failedPrecondition(
        `${this.loc.uri} already holds ${present.length} object(s) but no complete artifact (e.g. ${present[0].path}); choose another prefix or remove them`,
      );
    }
  }

  async put(file: StoredFile, body: Readable): Promise<void> {
    await this.putObject(file.path, body, file.size);
  }

  async commit(manifest: Buffer): Promise<void> {
    await this.putObject(MANIFEST_FILE, manifest, manifest.length);
  }

  async abort(): Promise<void> {
    // fslm.json is never in `written` before a successful commit, so deleting leaves no half artifact visible.
    while (this.written.length > 0) {
      const batch = this.written.splice(0, 1000);
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.loc.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }))
        .catch((error) => Promise.reject(storeError(this.loc, 'remove a partial upload', error)));
    }
  }

  private async putObject(rel: string, body: Readable | Buffer, size: number): Promise<void> {
    const Key = key(this.loc, rel);
    await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key, Body: body, ContentLength: size }))
      .catch((error) => Promise.reject(storeError(this.loc, `write ${rel}`, error)));
    if (rel !== MANIFEST_FILE) this.written.push(Key);
  }
}
