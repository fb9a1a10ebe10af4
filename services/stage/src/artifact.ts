// Reads a stage artifact directory (HF/Optimum layout plus fslm.json) and refuses one whose files
// do not match the sha256 sums in its manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../../shared/errors.ts';
import type { KvLayout } from './decoder-session.ts';

export interface DecoderInfo {
  num_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  eos_token_ids: number[];
  bos_token_id: number | null;
  pad_token_id: number | null;
  dtype: string;
  max_position_embeddings: number;
  /** How attention was exported (fslm_trainer/export_attention.py); absent in older artifacts. */
  attention?: 'grouped' | 'native';
}

/** How one precision's file was made and how close it stays to fp32 (fslm.json `variants`). */
export interface PrecisionVariant {
  file: string;
  method: string;
  bits: number;
  block_size?: number;
  accuracy_level?: number;
  attention: string;
  /** 'shared': past and present are one buffer the graph writes in place; 'concat' (or absent): present = past + new. */
  kv_cache?: KvLayout;
  fidelity?: Record<string, unknown>;
}

export interface ModelManifest {
  format: number;
  name: string;
  stage: string;
  base_model: string;
  architecture: string;
  training_run: string | null;
  trace_id: string | null;
  decoder: DecoderInfo;
  onnx: Record<string, string>;
  files: Record<string, string>;
  metrics: Record<string, number>;
  /** Per precision: how its file was made; absent in artifacts from before quantized variants. */
  variants?: Record<string, PrecisionVariant>;
  created: string;
}

export const PRECISIONS = ['fp32', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Whether `value` names a precision the engine loads. */
export function isPrecision(value: unknown): value is Precision {
  return typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value);
}

export interface Artifact {
  dir: string;
  manifest: ModelManifest;
  /** sha256 of fslm.json: identifies this exact model version. */
  version: string;
  /** The version of the LoRA adapter merged into it (adapterVersion), or '' for a model without one. */
  adapterVersion: string;
  precision: Precision;
  onnxPath: string;
  /** The KV-cache layout the precision's graph takes. */
  kvLayout: KvLayout;
  tokenizerJson: object;
  tokenizerConfig: Record<string, unknown>;
}

export const MANIFEST_FILE = 'fslm.json';
/** The files of a LoRA adapter inside an artifact (peft's format, as the trainer copies them). */
export const ADAPTER_FILES = ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors'] as const;

/**
 * The version of the adapter an artifact carries: sha256 of the lines `<sha256>  <name>\n` of
 * adapter_config.json and adapter_model.safetensors, in that order (what `sha256sum` prints; the
 * trainer's adapters.py computes the same and writes it to fslm.json `adapter.version`). Taken from the
 * manifest's file hashes, which loadArtifact has checked; '' when the artifact has no adapter files.
 */
export function adapterVersion(files: Record<string, string>): string {
  if (!ADAPTER_FILES.every((rel) => typeof files[rel] === 'string')) return '';
  const lines = ADAPTER_FILES.map((rel) => `${files[rel]}  ${path.posix.basename(rel)}\n`).join('');
  return createHash('sha256').update(lines).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw errors.failedPrecondition(`cannot read ${file}: ${(error as Error).message}`, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw errors.failedPrecondition(`${file} is not valid JSON: ${(error as Error).message}`, error);
  }
}

function checkManifestShape(value: unknown, file: string): ModelManifest {
  const m = value as Partial<ModelManifest> | null;
  const problems: string[] = [];
  if (!m || typeof m !== 'object') throw errors.failedPrecondition(`${file}: not a JSON object`);
  if (m.format !== 1) problems.push(`format: expected 1, got ${JSON.stringify(m.format)}`);
  if (!m.files || typeof m.files !== 'object') problems.push('files: missing');
  if (!m.onnx || typeof m.onnx.fp32 !== 'string') problems.push('onnx.fp32: missing');
  const d = m.decoder;
  if (!d) problems.push('decoder: missing');
  else {
    for (const key of ['num_layers', 'num_key_value_heads', 'head_dim', 'vocab_size'] as const) {
      if (!Number.isInteger(d[key]) || d[key] <= 0) problems.push(`decoder.${key}: expected a positive integer`);
    }
    if (!Array.isArray(d.eos_token_ids)) problems.push('decoder.eos_token_ids: expected an array');
  }
  if (problems.length > 0) throw errors.failedPrecondition(`${file}: ${problems.join('; ')}`);
  return m as ModelManifest;
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(path.relative(base, full));
  }
  return out;
}

/** Checks every file against the manifest: a changed, missing or unlisted model file is refused. */
export async function verifyArtifact(dir: string, manifest: ModelManifest): Promise<void> {
  const listed = Object.keys(manifest.files);
  for (const rel of listed) {
    const file = path.join(dir, rel);
    if (!(await stat(file).catch(() => null))) {
      throw errors.failedPrecondition(`model file ${rel} listed in ${MANIFEST_FILE} is missing from ${dir}`);
    }
    const actual = await sha256File(file);
    if (actual !== manifest.files[rel]) {
      throw errors.failedPrecondition(
        `sha256 mismatch for ${rel} in ${dir}: manifest says ${manifest.files[rel]}, file has ${actual}; refusing to load`,
      );
    }
  }
  const unlisted = (await listFiles(dir)).filter((rel) => rel !== MANIFEST_FILE && !(rel in manifest.files));
  const unlistedModelFiles = unlisted.filter((rel) => rel.startsWith('onnx/') || rel.endsWith('.json'));
  if (unlistedModelFiles.length > 0) {
    throw errors.failedPrecondition(`files not covered by ${MANIFEST_FILE} in ${dir}: ${unlistedModelFiles.join(', ')}`);
  }
}

/** Reads and verifies the artifact in `dir` and picks the file of `precision`; FAILED_PRECONDITION when it has none. */
export async function loadArtifact(dir: string, precision: Precision = 'fp32'): Promise<Artifact> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const manifest = checkManifestShape(await readJson(manifestPath), manifestPath);
  await verifyArtifact(dir, manifest);
  const onnxRel = manifest.onnx[precision];
  if (!onnxRel) {
    const has = Object.keys(manifest.onnx).join(', ');
    throw errors.failedPrecondition(`${dir} has no ${precision} model (fslm.json onnx.${precision}); it has: ${has}`);
  }
  const kvLayout = manifest.variants?.[precision]?.kv_cache ?? 'concat';
  if (kvLayout !== 'concat' && kvLayout !== 'shared') {
    throw errors.failedPrecondition(`${manifestPath}: variants.${precision}.kv_cache must be "concat" or "shared", got ${JSON.stringify(kvLayout)}`);
  }
  const tokenizerConfig = (await readJson(path.join(dir, 'tokenizer_config.json'))) as Record<string, unknown>;
  return {
    dir,
    manifest,
    version: await sha256File(manifestPath),
    adapterVersion: adapterVersion(manifest.files),
    precision,
    onnxPath: path.join(dir, onnxRel),
    kvLayout,
    tokenizerJson: (await readJson(path.join(dir, 'tokenizer.json'))) as object,
    tokenizerConfig,
  };
}
