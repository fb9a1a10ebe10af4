// Runs a rendered pod template of the fslm image as local processes, the way a kubelet and a container
// runtime would run it, for tests on a machine that has no container runtime. The mapping:
// - the pod's network is a host of test/support/hosts.ts (its own network namespace and address);
//   `hostAliases` puts cluster DNS names (a Service's name) into the pod's /etc/hosts;
// - each container runs in its own mount namespace holding what a runtime gives it: a fresh /dev
//   (the standard device nodes), its terminationMessagePath (a local file, read back after it exits),
//   its volumeMounts bound onto their mountPaths (emptyDir: a temp folder per pod, shared by its
//   containers; persistentVolumeClaim: the local folder given for the claim, e.g. its PV's hostPath),
//   read-only where the mount, the claim or readOnlyRootFilesystem (the whole root) say so;
// - the image (deploy/fslm.Dockerfile: WORKDIR /app holding this repository's bin, proto and services;
//   ENTRYPOINT ["node", "/app/bin/fslm.js"]; ENV NODE_ENV=production) is this checkout: the entrypoint
//   becomes this Node and this checkout's bin/fslm.js, the working directory this checkout; the
//   container's args are passed unchanged (after Kubernetes' own $(VAR) expansion);
// - env: the image's, then the container's (`value` and the pod's name and namespace as fieldRefs);
// - runAsUser/runAsGroup/fsGroup and allowPrivilegeEscalation: false through setpriv (emptyDirs are
//   0777 as the kubelet makes them, group fsGroup).
// Init containers run in order to completion; the first that fails ends the pod's start and its
// containers are not started, as the kubelet does (restartPolicy Never: no retry here).
// Needs root (mount and network namespaces), as the hosts do.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { V1Container, V1PodTemplateSpec } from '@kubernetes/client-node';
import { service as healthService } from 'grpc-health-check';
import type { ProtoGrpcType } from '../../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../../services/shared/proto.ts';
import type { Host } from '../../support/hosts.ts';
import { REPO_ROOT } from '../../support/models.ts';
import { waitFor } from '../../support/wait.ts';

/** The fslm image's entrypoint (deploy/fslm.Dockerfile), working directory and environment. */
const IMAGE = {
  repository: 'ghcr.io/fslm/fslm',
  workdir: '/app',
  entrypoint: [process.execPath, path.join(REPO_ROOT, 'bin/fslm.js')],
  env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', NODE_ENV: 'production', ONNXRUNTIME_NODE_INSTALL: 'skip' },
};
/** The kubelet's default terminationMessagePath, and the most of a message (or log tail) it keeps. */
const DEFAULT_TERMINATION_PATH = '/dev/termination-log';
const MESSAGE_MAX_BYTES = 4096;

export interface LocalPodOptions {
  /** The pod's name (metadata.name, $(POD_NAME) through its fieldRef). */
  name: string;
  namespace: string;
  /** Where the pod's network lives (its address is the pod IP). */
  host: Host;
  /** The local folder of each persistentVolumeClaim the pod names (its PV's hostPath). */
  claims: Record<string, string>;
  /** DNS names the pod resolves (a cluster Service's name) → addresses. */
  hostAliases?: Record<string, string>;
}

/** A container that ran to its end. */
export interface TerminatedContainer {
  name: string;
  exitCode: number | null;
  /** Its termination message (or, under FallbackToLogsOnError after a failure with none, its log's tail). */
  message: string;
  log: string;
}

/** A running container: its process and what it has printed so far. */
export interface RunningContainer {
  name: string;
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

export interface LocalPod {
  /** The init containers that ran, in order (the last one failed when `containers` is empty). */
  init: TerminatedContainer[];
  /** The containers, started once every init container succeeded. */
  containers: RunningContainer[];
  /** SIGTERM to every container (SIGKILL after `graceMs`), then the pod's folders and mount points go. */
  stop(graceMs?: number): Promise<void>;
}

/** Kubernetes' $(VAR) expansion of command and args: a defined variable is replaced, $$ is a literal $. */
export function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) =>
    name === undefined ? '$' : name in env ? env[name] : whole);
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts the pod: init containers to completion, then its containers (not waiting for them to be ready). */
export async function runLocalPod(template: V1PodTemplateSpec, options: LocalPodOptions): Promise<LocalPod> {
  const spec = template.spec;
  if (!spec) throw new Error('the pod template has no spec');
  const podDir = mkdtempSync(path.join(os.tmpdir(), `fslm-pod-${options.name}-`));
  chmodSync(podDir, 0o755);
  const fsGroup = spec.securityContext?.fsGroup;
  const volumes = new Map<string, { dir: string; readOnly: boolean }>();
  for (const v of spec.volumes ?? []) {
    if (v.emptyDir) {
      const dir = path.join(podDir, 'volumes', v.name);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      if (fsGroup !== undefined) chownSync(dir, 0, fsGroup);
      volumes.set(v.name, { dir, readOnly: false });
    } else if (v.persistentVolumeClaim) {
      const dir = options.claims[v.persistentVolumeClaim.claimName];
      if (!dir) throw new Error(`volume ${v.name}: no local folder given for claim ${v.persistentVolumeClaim.claimName}`);
      volumes.set(v.name, { dir, readOnly: v.persistentVolumeClaim.readOnly ?? false });
    } else {
      throw new Error(`volume ${v.name}: only emptyDir and persistentVolumeClaim volumes are mapped (${JSON.stringify(v)})`);
    }
  }
  const hostsFile = path.join(podDir, 'hosts');
  writeFileSync(hostsFile, [`127.0.0.1\tlocalhost`, `${options.host.ip}\t${options.name}`,
    ...Object.entries(options.hostAliases ?? {}).map(([name, ip]) => `${ip}\t${name}`)].join('\n') + '\n');
  chmodSync(hostsFile, 0o644);
  const createdMountPoints = new Set<string>();
  const running: RunningContainer[] = [];

  const launch = (c: V1Container, index: number) => {
    if (!c.image?.startsWith(`${IMAGE.repository}:`)) throw new Error(`container ${c.name}: only the fslm image is mapped, not ${c.image}`);
    if (c.command) throw new Error(`container ${c.name}: a command replacing the image's entrypoint is not mapped`);
    if (c.envFrom?.length) throw new Error(`container ${c.name}: envFrom is not mapped`);
    const env: Record<string, string> = { ...IMAGE.env, HOSTNAME: options.name };
    for (const e of c.env ?? []) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (e.valueFrom && !field) throw new Error(`container ${c.name}: env ${e.name}: only value and fieldRef are mapped`);
      env[e.name] = field === 'metadata.name' ? options.name : field === 'metadata.namespace' ? options.namespace
        : field ? (() => { throw new Error(`env ${e.name}: fieldRef ${field} is not mapped`); })() : expandVars(e.value ?? '', env);
    }
    const argv = [...IMAGE.entrypoint, ...(c.args ?? []).map((a) => expandVars(a, env))];
    const terminationPath = c.terminationMessagePath ?? DEFAULT_TERMINATION_PATH;
    const terminationFile = path.join(podDir, `termination-${index}-${c.name}`);
    writeFileSync(terminationFile, '');
    chmodSync(terminationFile, 0o666);
    const mounts = (c.volumeMounts ?? []).map((m) => {
      const volume = volumes.get(m.name);
      if (!volume) throw new Error(`container ${c.name}: mount of unknown volume ${m.name}`);
      if (m.subPath) throw new Error(`container ${c.name}: subPath mounts are not mapped`);
      if (!existsSync(m.mountPath)) createdMountPoints.add(m.mountPath);
      return { source: volume.dir, target: m.mountPath, readOnly: volume.readOnly || (m.readOnly ?? false) };
    });
    // Bind sources are resolved when bound: a mount over a folder holding another's source goes last.
    const sources = [terminationFile, hostsFile, ...mounts.map((m) => m.source)];
    const covers = (target: string) => sources.some((s) => s.startsWith(`${target}/`));
    mounts.sort((a, b) => Number(covers(a.target)) - Number(covers(b.target)));
    const security = { ...spec.securityContext, ...c.securityContext };
    const user = security.runAsUser;
    const group = security.runAsGroup ?? user;
    const script = [
      'set -eu',
      // A fresh /dev with the devices a runtime gives every container.
      'mount -t tmpfs -o mode=755,nosuid tmpfs /dev',
      ...[['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]]
        .map(([n, major, minor]) => `mknod -m 666 /dev/${n} c ${major} ${minor}`),
      'ln -s /proc/self/fd /dev/fd', 'ln -s /proc/self/fd/0 /dev/stdin', 'ln -s /proc/self/fd/1 /dev/stdout', 'ln -s /proc/self/fd/2 /dev/stderr',
      'mkdir /dev/shm', 'mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm',
      `mkdir -p ${quote(path.dirname(terminationPath))}`, `touch ${quote(terminationPath)}`, `mount --bind ${quote(terminationFile)} ${quote(terminationPath)}`,
      `mount --bind ${quote(hostsFile)} /etc/hosts`,
      ...mounts.flatMap((m) => [
        `mkdir -p ${quote(m.target)}`, `mount --bind ${quote(m.source)} ${quote(m.target)}`,
        ...(m.readOnly ? [`mount -o remount,bind,ro ${quote(m.target)}`] : []),
      ]),
      ...(security.readOnlyRootFilesystem ? ['mount -o remount,bind,ro /'] : []),
      `cd ${quote(c.workingDir && c.workingDir !== IMAGE.workdir ? c.workingDir : REPO_ROOT)}`,
      user === undefined ? 'exec "$@"'
        : `exec setpriv --reuid ${user} --regid ${group} ${fsGroup !== undefined ? `--groups ${fsGroup}` : '--clear-groups'}${security.allowPrivilegeEscalation === false ? ' --no-new-privs' : ''} -- "$@"`,
    ].join('\n');
    const child = spawn('ip', ['netns', 'exec', options.host.netns, 'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', ...argv], {
      env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (log += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (log += s));
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    const terminated = async (): Promise<TerminatedContainer> => {
      const exitCode = await exited;
      let message = readFileSync(terminationFile, 'utf8').slice(0, MESSAGE_MAX_BYTES);
      if (!message && exitCode !== 0 && c.terminationMessagePolicy === 'FallbackToLogsOnError') message = log.slice(-MESSAGE_MAX_BYTES);
      return { name: c.name, exitCode, message, log };
    };
    return { running: { name: c.name, child, log: () => log, exited }, terminated };
  };

  const stop = async (graceMs = 10_000) => {
    await Promise.all(running.map(async (r) => {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGTERM');
        const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
        await r.exited;
        clearTimeout(timer);
      }
    }));
    for (const point of createdMountPoints) {
      try {
        rmdirSync(point);
      } catch {
        // Not empty or already gone: not ours to remove.
      }
    }
    rmSync(podDir, { recursive: true, force: true });
  };

  const init: TerminatedContainer[] = [];
  try {
    for (const [i, c] of (spec.initContainers ?? []).entries()) {
      const { running: r, terminated } = launch(c, i);
      running.push(r);
      const done = await terminated();
      init.push(done);
      if (done.exitCode !== 0) return { init, containers: [], stop };
    }
    const containers = spec.containers.map((c, i) => {
      const { running: r } = launch(c, 100 + i);
      running.push(r);
      return r;
    });
    return { init, containers, stop };
  } catch (error) {
    await stop(1000);
    throw error;
  }
}

/**
 * The stage door of a running local pod at `address` (HOST:PORT): its grpc.health.v1 status for
 * fslm.v1.StageService once SERVING (waits up to `timeoutMs`), and the version its Describe reports.
 * @throws when it is not SERVING in time or Describe fails.
 */
export async function stageServing(address: string, timeoutMs: number): Promise<{ health: string; version: string }> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const health = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(req: { service: string }, cb: (e: Error | null, r: { status: string | number }) => void): void;
  };
  const stage = new (loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']).fslm.v1.StageService)(address, grpc.credentials.createInsecure());
  try {
    const status = await waitFor(() => new Promise<string | false>((resolve) =>
      health.check({ service: 'fslm.v1.StageService' }, (e, r) => resolve(!e && (r.status === 'SERVING' || r.status === 1) ? 'SERVING' : false))),
    { what: `the stage at ${address} to report SERVING`, timeoutMs, intervalMs: 250 });
    const described = await new Promise<string>((resolve, reject) =>
      stage.Describe({}, (e, r) => (e ? reject(e) : resolve(r?.manifest?.version ?? ''))));
    return { health: status, version: described };
  } finally {
    health.close();
    stage.close();
  }
}
