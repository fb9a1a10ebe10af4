// Trust of a Stack's pods, from Secrets of its namespace (pure): TLS on the gRPC and HTTPS doors
// (spec.tls), TLS and an NKey identity towards NATS (spec.nats), each Secret mounted read-only as a
// whole-directory volume, never by subPath, so a renewed Secret shows up in the running pod (the doors
// re-read their certificate files; NATS TLS files are read at every (re)connect) and the flags of
// `fslm stage` / `fslm router` that name the files. A pod sees only its own NKey seed: the volume
// projects one key of the credentials Secret.
//
// Probes: kubelet's native gRPC probe speaks plaintext only, so a door with TLS is probed by an exec of
// `fslm health` in the container: it calls grpc.health.v1 on 127.0.0.1 over TLS, checking the served
// chain against ca.crt (not the name: it dials its own pod), with tls.crt as client certificate when the
// door requires one. That also proves the door's current certificate works. Without TLS, the native probe.
import type { V1Probe, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Stack, StackStageSpec } from './stack-types.ts';

/** Where the door's kubernetes.io/tls Secret is mounted. */
export const TLS_DIR = '/etc/fslm/tls';
/** Where the NATS TLS Secret is mounted. */
export const NATS_TLS_DIR = '/etc/fslm/nats-tls';
/** Where the pod's NKey seed is mounted, as NKEY_FILE. */
export const NATS_NKEY_DIR = '/etc/fslm/nats-nkey';
export const NKEY_FILE = 'seed.nk';
/** Owner and group (the pod's fsGroup) may read; nobody writes. */
const SECRET_MODE = 0o440;
/** What the image runs (deploy/fslm.Dockerfile's entrypoint), for exec probes. */
export const FSLM_COMMAND = ['node', '/app/bin/fslm.js'];

/** The Secret key of an identity's seed: the file `fslm nats-config --keys DIR` writes for it. */
export function nkeySecretKey(identity: string): string {
  return `${identity}.nk`;
}

/** The NATS identity of a stage (as services/router/src/nats-permissions.ts names it). */
export function stageIdentity(stack: string, stage: string): string {
  return `stage.${stack}.${stage}`;
}

export const ROUTER_IDENTITY = 'router';

/** Volumes, mounts and flags that give one container its trust settings. */
export interface PodTrust {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  /** Flags for `fslm stage` / `fslm router`. */
  args: string[];
}

/** A probe's check of the gRPC door on `port`, for health of `service`: native gRPC, or `fslm health` over TLS. */
export function grpcProbeHandler(stack: Stack, port: number, service: string): Pick<V1Probe, 'grpc' | 'exec'> {
  const tls = stack.spec.tls;
  if (!tls) return { grpc: { port, service } };
  return {
    exec: {
      command: [...FSLM_COMMAND, 'health', '--grpc', `127.0.0.1:${port}`, '--service', service, '--tls-ca', `${TLS_DIR}/ca.crt`,
        ...(tls.clientAuth ? ['--tls-cert', `${TLS_DIR}/tls.crt`, '--tls-key', `${TLS_DIR}/tls.key`] : []), '--no-verify-name'],
    },
  };
}

/** The door's TLS: the Secret at TLS_DIR and --tls-* flags (with --tls-client-auth under spec.tls.clientAuth). */
function doorTrust(stack: Stack): PodTrust {
  const tls = stack.spec.tls;
  if (!tls) return { volumes: [], mounts: [], args: [] };
  return {
    volumes: [{ name: 'tls', secret: { secretName: tls.secretName, defaultMode: SECRET_MODE } }],
    mounts: [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }],
    args: ['--tls-cert', `${TLS_DIR}/tls.crt`, '--tls-key', `${TLS_DIR}/tls.key`,
      ...(tls.clientAuth ? ['--tls-ca', `${TLS_DIR}/ca.crt`, '--tls-client-auth'] : [])],
  };
}

/** NATS TLS and the identity's seed (one key of the credentials Secret). */
function natsTrust(stack: Stack, identity: string): PodTrust {
  const nats = stack.spec.nats ?? {};
  const out: PodTrust = { volumes: [], mounts: [], args: [] };
  if (nats.tls) {
    const files = nats.tls.clientCertificate ? ['ca.crt', 'tls.crt', 'tls.key'] : ['ca.crt'];
    out.volumes.push({ name: 'nats-tls', secret: { secretName: nats.tls.secretName, defaultMode: SECRET_MODE, items: files.map((f) => ({ key: f, path: f })) } });
    out.mounts.push({ name: 'nats-tls', mountPath: NATS_TLS_DIR, readOnly: true });
    out.args.push('--nats-ca', `${NATS_TLS_DIR}/ca.crt`);
    if (nats.tls.clientCertificate) out.args.push('--nats-cert', `${NATS_TLS_DIR}/tls.crt`, '--nats-key', `${NATS_TLS_DIR}/tls.key`);
  }
  if (nats.credentialsSecretName) {
    out.volumes.push({
      name: 'nats-nkey',
      secret: { secretName: nats.credentialsSecretName, defaultMode: SECRET_MODE, items: [{ key: nkeySecretKey(identity), path: NKEY_FILE }] },
    });
    out.mounts.push({ name: 'nats-nkey', mountPath: NATS_NKEY_DIR, readOnly: true });
    out.args.push('--nats-nkey', `${NATS_NKEY_DIR}/${NKEY_FILE}`);
  }
  return out;
}

const merged = (...parts: PodTrust[]): PodTrust => ({
  volumes: parts.flatMap((p) => p.volumes), mounts: parts.flatMap((p) => p.mounts), args: parts.flatMap((p) => p.args),
});

/** A stage container's trust: the doors' TLS and its stage's own NATS identity. */
export function stageTrust(stack: Stack, stage: StackStageSpec): PodTrust {
  return merged(doorTrust(stack), natsTrust(stack, stageIdentity(stack.metadata.name, stage.name)));
}

/** The router container's trust: the doors' TLS (gRPC and HTTPS) and the router's NATS identity. */
export function routerTrust(stack: Stack): PodTrust {
  return merged(doorTrust(stack), natsTrust(stack, ROUTER_IDENTITY));
}
