import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { KubeConfig, type KubernetesListObject, type V1ConfigMap } from '@kubernetes/client-node';
import { RestartingInformer } from '../../shared/k8s-informer.ts';
import { waitFor, within } from '../../../test/support/wait.ts';

// A fake API server: the list fails `failLists` times with 500, then answers; a watch sends one
// ADDED event and stays open (flushHeaders, or the client never sees the response start).
function fakeApiServer(failLists: number) {
  let lists = 0;
  const server = createServer((req, res) => {
    if (req.url?.includes('watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'late', namespace: 'ns', resourceVersion: '2' } } })}\n`);
      return;
    }
    lists++;
    if (lists <= failLists) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500,"message":"etcd is sad"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [{ metadata: { name: 'first', namespace: 'ns', resourceVersion: '1' } }] }));
  });
  return { server, lists: () => lists };
}

test('an informer whose list fails restarts with growing backoff until it syncs', { timeout: 30_000 }, async () => {
  const { server, lists } = fakeApiServer(3);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  const restarts: number[] = [];
  const seen: string[] = [];
  const list = async (): Promise<KubernetesListObject<V1ConfigMap>> => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/configmaps`);
    if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { statusCode: r.status });
    return (await r.json()) as KubernetesListObject<V1ConfigMap>;
  };
  const inf = new RestartingInformer<V1ConfigMap>({
    name: 'configmaps', kubeConfig: kc, path: '/api/v1/configmaps', list, backoffMs: 20, maxBackoffMs: 1000,
    onChange: (o) => seen.push(o.metadata!.name!), onRestart: (_n, _e, ms) => restarts.push(ms),
  });
  try {
    await inf.start();
    await within(inf.synced, { what: 'the informer to sync', timeoutMs: 10_000 });
    await waitFor(() => seen.includes('late'), { what: "the watch's ADDED event", timeoutMs: 10_000 });
    assert.deepEqual(restarts, [20, 40, 80]);
    assert.equal(lists(), 4);
    assert.deepEqual(seen, ['first', 'late']);
    assert.equal(inf.get('late', 'ns')?.metadata?.name, 'late');
  } finally {
    await inf.stop();
    server.closeAllConnections();
    server.close();
  }
});
