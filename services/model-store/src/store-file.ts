// Artifacts in a local directory (a mounted volume on a cluster). Writes go to a temporary directory and are
// renamed into place, so a reader sees either no artifact or a complete one.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors } from '../../shared/errors.ts';
import { MANIFEST_FILE } from './manifest.ts';
import type { ArtifactReader, ArtifactWriter, StoredFile } from './types.ts';

async function walk(root: string, dir = root): Promise<StoredFile[]> {
  const out: StoredFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(root, full)));
    else out.push({ path: path.relative(root, full).split(path.sep).join('/'), size: (await stat(full)).size });
  }
  return out;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** Reads an artifact directory. */
export class DirectoryReader implements ArtifactReader {
  constructor(readonly dir: string, readonly where: string = dir) {}

  async readManifest(): Promise<Buffer> {
    try {
      return await readFile(path.join(this.dir, MANIFEST_FILE));
    } catch (error) {
      if (isMissing(error)) throw errors.notFound(`${this.where} holds no ${MANIFEST_FILE}: not a complete fslm artifact`);
      throw errors.unavailable(`cannot read ${this.where}/${MANIFEST_FILE}: ${(error as Error).message}`, error);
    }
  }

  list(): Promise<StoredFile[]> {
    return walk(this.dir);
  }

  async open(file: StoredFile): Promise<Readable> {
    return createReadStream(path.join(this.dir, ...file.path.split('/')));
  }
}

/**
 * Writes an artifact into `dir`. When `dir` does not exist, files go to a hidden sibling that is renamed onto
 * it on commit (one atomic step). When `dir` exists and is empty (a volume's mount point, which cannot be
 * renamed), files go to a hidden folder inside it and are moved up on commit, fslm.json last; until then the
 * folder holds no fslm.json, so no reader takes it for an artifact.
 */
export class DirectoryWriter implements ArtifactWriter {
  private tmp: string | undefined;
  private inPlace = false;

  constructor(readonly dir: string, readonly where: string = dir) {}

  async existingManifest(): Promise<Buffer | undefined> {
    return readFile(path.join(this.dir, MANIFEST_FILE)).catch((error) => {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw error;
    });
  }

  async begin(): Promise<void> {
    const info = await stat(this.dir).catch((error) => (isMissing(error) ? undefined : Promise.reject(error)));
    const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
    if (info === undefined) {
      await mkdir(path.dirname(this.dir), { recursive: true });
      this.tmp = path.join(path.dirname(this.dir), `.${path.basename(this.dir)}.tmp-${suffix}`);
    } else if (!info.isDirectory()) {
      throw errors.failedPrecondition(`${this.where} exists and is not a directory`);
    } else if ((await readdir(this.dir)).length > 0) {
      throw errors.failedPrecondition(`${this.where} already exists and is not empty (and holds no copy of this artifact); choose an empty or new directory`);
    } else {
      this.inPlace = true;
      this.tmp = path.join(this.dir, `.fslm-partial-${suffix}`);
    }
    await mkdir(this.tmp, { recursive: true });
  }

  async put(file: StoredFile, body: Readable): Promise<void> {
    const target = path.join(this.staging(), ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await pipeline(body, createWriteStream(target, { flags: 'wx' }));
  }

  async commit(manifest: Buffer): Promise<void> {
    const tmp = this.staging();
    if (!this.inPlace) {
      await writeFile(path.join(tmp, MANIFEST_FILE), manifest, { flag: 'wx' });
      try {
        await rename(tmp, this.dir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const same = (await this.existingManifest())?.equals(manifest);
        await this.abort();
        // Another writer put the same version there first: that is the artifact asked for.
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && same) return;
        throw errors.failedPrecondition(`cannot move the artifact into ${this.where}: ${(error as Error).message}`, error);
      }
      this.tmp = undefined;
      return;
    }
    const moved: string[] = [];
    try {
      for (const entry of await readdir(tmp)) {
        await rename(path.join(tmp, entry), path.join(this.dir, entry));
        moved.push(entry);
      }
      const part = path.join(tmp, MANIFEST_FILE);
      await writeFile(part, manifest, { flag: 'wx' });
      await rename(part, path.join(this.dir, MANIFEST_FILE));
    } catch (error) {
      for (const entry of moved) await rm(path.join(this.dir, entry), { recursive: true, force: true });
      await this.abort();
      throw errors.failedPrecondition(`cannot move the artifact into ${this.where}: ${(error as Error).message}`, error);
    }
    await this.abort();
  }

  async abort(): Promise<void> {
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }

  private staging(): string {
    if (!this.tmp) throw errors.internal('DirectoryWriter used before begin()');
    return this.tmp;
  }
}
