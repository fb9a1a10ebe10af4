// A real S3-compatible object store for tests: SeaweedFS (`weed server -s3`, built once from the Go module proxy
// by scripts/go-tool and cached under ~/.cache/fslm/bin/), on loopback ports, with one access key whose
// signatures it checks, and one bucket. Its usage telemetry is off; nothing leaves loopback.
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './models.ts';
import { onFreePorts } from './ports.ts';
import { scriptOutput, startServerProcess } from './server-process.ts';

/** A running SeaweedFS with one bucket. */
export interface S3Server {
  /** The S3 endpoint, e.g. http://127.0.0.1:PORT. */
  endpoint: string;
  bucket: string;
  /** The standard AWS variables (plus FSLM_S3_FORCE_PATH_STYLE) a client process needs to reach it. */
  env: Record<string, string>;
  /** An SDK client for the test itself. */
  client: S3Client;
  stop(): Promise<void>;
}

/**
 * Starts SeaweedFS with S3 on loopback (building it first if needed, within 15 minutes; scripts/test builds it
 * beforehand) and creates `bucket`; on fresh ports and a fresh directory again when a port was taken meanwhile.
 */
export async function startS3Server(bucket = 'fslm-models', timeoutMs = 120_000): Promise<S3Server> {
  const weed = await scriptOutput(path.join(REPO_ROOT, 'scripts/go-tool'), ['seaweedfs'], 15 * 60_000);
  return onFreePorts(8, (ports) => startOn(weed, ports, bucket, timeoutMs));
}

async function startOn(weed: string, ports: number[], bucket: string, timeoutMs: number): Promise<S3Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-seaweedfs-'));
  const accessKey = `fslm${randomBytes(6).toString('hex')}`;
  const secretKey = randomBytes(20).toString('hex');
  writeFileSync(path.join(dir, 's3.json'), JSON.stringify({
    identities: [{ name: 'fslm-test', credentials: [{ accessKey, secretKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }],
  }));
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = ports;
  const endpoint = `http://127.0.0.1:${s3}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
  let server;
  try {
    server = await startServerProcess({
      name: 'seaweedfs',
      command: weed,
      cwd: dir,
      args: [
        'server', '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-dir=${dir}`, '-volume.max=4', '-master.volumeSizeLimitMB=64', '-master.telemetry=false',
        `-master.port=${master}`, `-master.port.grpc=${masterGrpc}`, `-volume.port=${volume}`, `-volume.port.grpc=${volumeGrpc}`,
        '-filer', `-filer.port=${filer}`, `-filer.port.grpc=${filerGrpc}`, `-filer.localSocket=${path.join(dir, 'filer.sock')}`,
        '-s3', `-s3.port=${s3}`, `-s3.port.grpc=${s3Grpc}`, '-s3.port.iceberg=0', '-s3.port.lance=0', `-s3.config=${path.join(dir, 's3.json')}`,
        `-s3.localSocket=${path.join(dir, 's3.sock')}`,
      ],
      // Ready once the bucket exists and takes an object: SeaweedFS grows a bucket's volumes on its first write,
      // which can fail on a busy machine, so that write happens here rather than in a test.
      ready: async () => {
        await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
          if (error.name !== 'BucketAlreadyOwnedByYou') throw error; // an earlier try got through after all
        });
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: '.fslm-ready', Body: 'ok' }));
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: '.fslm-ready' }));
        return true;
      },
      timeoutMs,
    });
  } catch (error) {
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = server;
  return {
    endpoint,
    bucket,
    client,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: accessKey,
      AWS_SECRET_ACCESS_KEY: secretKey,
      // Keep the developer's own AWS files and the instance metadata service out of the test.
      AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      FSLM_S3_FORCE_PATH_STYLE: '1',
    },
    stop: async () => {
      client.destroy();
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
