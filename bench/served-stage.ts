// A stage as a user gets it, for the engine's speed and memory figures: one `fslm stage` process (one
// intra-op thread) called over gRPC on loopback.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { DescribeResponse__Output } from '../services/shared/generated/fslm/v1/DescribeResponse.ts';
import type { GenerateResponse__Output } from '../services/shared/generated/fslm/v1/GenerateResponse.ts';
import type { GenerateResult__Output } from '../services/shared/generated/fslm/v1/GenerateResult.ts';
import type { StageServiceClient } from '../services/shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../services/shared/proto.ts';
import { jsonEvent, spawnChild, type Child } from '../services/cli/up-processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServedStage {
  precision: string;
  pid: number;
  /** Greedy generation of up to `maxNewTokens` tokens after `prompt` (raw text, the tokenizer's own special tokens). */
  generate(prompt: string, maxNewTokens: number): Promise<GenerateResult__Output>;
  describe(): Promise<DescribeResponse__Output>;
  /** Resident and peak resident memory of the process, bytes (Linux /proc). */
  memory(): Promise<{ rss: number; peak: number }>;
  stop(): Promise<void>;
}

/** Starts `fslm stage --model DIR --precision P --threads 1` and connects to its gRPC door. */
export async function startServedStage(modelDir: string, precision: string, options: { maxBatch?: number } = {}): Promise<ServedStage> {
  const child: Child = spawnChild({
    name: `stage-${precision}`,
    command: process.execPath,
    args: [path.join(ROOT, 'bin/fslm.js'), 'stage', '--model', modelDir, '--precision', precision, '--grpc', '127.0.0.1:0',
      '--threads', '1', '--max-batch', String(options.maxBatch ?? 16), '--max-queue', '64'],
    readyWhen: jsonEvent('listening'),
  });
  let ready: Record<string, unknown>;
  try {
    ready = await child.ready;
  } catch (error) {
    await child.stop();
    throw error;
  }
  const stage = connectStage(String(ready.grpc), child.child.pid!, precision);
  return {
    ...stage,
    stop: async () => {
      await stage.stop();
      await child.stop();
    },
  };
}

/** A client of a running stage process (`stop` closes the client only). */
export function connectStage(address: string, pid: number, precision: string): ServedStage {
  const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
  const client: StageServiceClient = new proto.fslm.v1.StageService(address, grpc.credentials.createInsecure());
  return {
    precision,
    pid,
    generate: (prompt, maxNewTokens) => new Promise((resolve, reject) => {
      let result: GenerateResult__Output | null = null;
      const call = client.Generate({ prompt, params: { max_new_tokens: maxNewTokens, temperature: 0, repetition_penalty: 1 } });
      call.on('data', (r: GenerateResponse__Output) => {
        if (r.result) result = r.result;
      });
      call.on('error', reject);
      call.on('end', () => (result ? resolve(result) : reject(new Error('the stage ended the call without a result'))));
    }),
    describe: () => new Promise((resolve, reject) => client.Describe({}, (error, reply) => (error ? reject(error) : resolve(reply!)))),
    memory: async () => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = (key: string) => Number(/\d+/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[0] ?? NaN) * 1024;
      return { rss: kb('VmRSS:'), peak: kb('VmHWM:') };
    },
    stop: async () => client.close(),
  };
}
