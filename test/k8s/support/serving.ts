// Helpers for the serving tests on the real control plane: install fslm with an overlay as a user
// would, run the controller under its own service account, give a namespace its model store (a
// hostPath PersistentVolume pre-bound to the claim of k8s/examples/model-store.yaml), read Stacks.
import { ControllerProcess } from '../../controller/support/controller-process.ts';
import { TestEnv, waitForCrds } from '../../controller/support/testenv.ts';
import { waitFor } from '../../support/wait.ts';

/** `kubectl apply -k OVERLAY`, then the CRDs established. */
export async function applyOverlay(env: TestEnv, overlay: string): Promise<void> {
  await env.kubectl(['apply', '-k', overlay]);
  await waitForCrds(env);
}

/** The controller as a local process under the fslm-controller service account's token. */
export async function startController(env: TestEnv, identity: string, extraArgs: string[] = []): Promise<ControllerProcess> {
  const controller = ControllerProcess.start({ kubeconfig: env.controllerKubeconfig, identity, extraArgs });
  await controller.waitForLog('caches synced; reconciling', 60_000);
  return controller;
}

/** A fresh namespace with the model store's claims (see modelStore). */
export async function namespaceWithStore(env: TestEnv, ns: string): Promise<void> {
  await env.kubectl(['create', 'namespace', ns]);
  await modelStore(env, ns);
}

/** k8s/examples/model-store.yaml in `ns`, its claims bound to hostPath volumes (no provisioner runs here). */
export async function modelStore(env: TestEnv, ns: string): Promise<void> {
  const pv = (claim: string) => `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${ns}-${claim}}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Delete
  hostPath: {path: /tmp/${ns}-${claim}}
  claimRef: {namespace: ${ns}, name: ${claim}}
`;
  await env.kubectl(['apply', '-f', '-'], { input: `${pv('fslm-models')}---\n${pv('fslm-data')}` });
  await env.kubectl(['apply', '-n', ns, '-f', 'k8s/examples/model-store.yaml']);
  await waitFor(async () => {
    const claims = (await env.json(['get', 'pvc', '-n', ns])).items;
    return claims.length === 2 && claims.every((c: { status: { phase: string } }) => c.status.phase === 'Bound');
  }, { what: `the ${ns} claims to bind`, timeoutMs: 60_000, intervalMs: 200 });
}

/** Deletes the namespace and waits until it is gone, so the next test finds free GPU nodes. */
export async function dropNamespace(env: TestEnv, ns: string): Promise<void> {
  await env.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFail: true });
  await env.kubectl(['delete', 'pv', `${ns}-fslm-models`, `${ns}-fslm-data`, '--ignore-not-found'], { allowFail: true });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl's JSON, read field by field
export type Json = any;

export const getStack = (env: TestEnv, ns: string, name: string): Promise<Json> => env.json(['get', 'stack', name, '-n', ns]);

/** Waits until the Stack's status satisfies `ok`, and returns the Stack. */
export function waitForStack(env: TestEnv, ns: string, name: string, what: string, ok: (s: Json) => boolean, timeoutMs = 90_000): Promise<Json> {
  return waitFor(async () => {
    const s = await getStack(env, ns, name);
    return ok(s) ? s : undefined;
  }, { what: `Stack ${ns}/${name}: ${what}`, timeoutMs: timeoutMs, intervalMs: 200 });
}
