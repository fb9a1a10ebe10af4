// The NATS cluster with TLS across hosts: three nats-server on three hosts (network namespaces) serve
// TLS to clients and on their routes (certificates from the local CA naming each host's address; routes
// verify each other), and admit only the NKey users `fslm nats-config` derives from the stack, each with
// its per-subject permissions. The stages and the router, each on its own host, connect with TLS, a
// client certificate and their own NKey identity. A request completes; the server the router is
// connected to stops, the router reconnects to another server over TLS, and the next request completes.
// A client without the CA, and one with the CA but no identity, are refused.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from 'nats';
import { makeLocalCa, type LocalCa } from '../../services/cli/local-ca.ts';
import { identityKeys, seedFileOf } from '../../services/cli/nats-config.ts';
import { natsIdentities } from '../../services/router/src/nats-permissions.ts';
import { loadStackFile } from '../../services/router/src/stack-loader.ts';
import { natsConnectionOptions } from '../../services/shared/nats-connect.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';
import { startHostStack, type HostStack } from '../support/host-stack.ts';
import { testModels } from '../support/models.ts';
import type { FslmProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';
import { run } from '../stack/support/grpc-calls.ts';

const DEADLINE_MS = 120_000;

/** The NATS reconnects a process reported. */
const reconnects = (process: FslmProcess) => process.events.filter((e) => e.event === 'nats' && e.type === 'reconnect');

describe('the NATS cluster with TLS and NKey identities across hosts', { timeout: 420_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-nats-tls-hosts-'));
  const keysDir = path.join(dir, 'keys');
  const builder = new StackBuilder('tlshosts')
    .stage({ name: 'draft', template: 'Restate: {input}', params: { maxNewTokens: 8, temperature: 0 } })
    .stage({ name: 'answer', template: 'Answer: {stages.draft}', params: { maxNewTokens: 8, temperature: 0 } });
  let ca: LocalCa;
  let stack: HostStack;

  before(async () => {
    const identities = natsIdentities([await loadStackFile(builder.write())]);
    const keys = identityKeys(keysDir, identities);
    const client = () => ca.files('client');
    stack = await startHostStack({
      stack: builder, modelDir: testModels('tiny')['tiny-onnx'], replicas: { draft: 1, answer: 1 },
      trust: {
        nats: (hosts) => {
          // One certificate per server, naming its host's address; routes present it as clients too.
          ca = makeLocalCa(path.join(dir, 'ca'), [
            ...hosts.map((h) => ({ name: h.name, ips: [h.ip], usage: 'both' as const })),
            { name: 'client', usage: 'client' },
          ]);
          return {
            tls: (host) => ({ ...ca.files(host.name), caFile: ca.caFile, verifyClients: true }),
            users: identities.map((identity) => ({ nkey: keys.get(identity.name)!, identity })),
          };
        },
        stageArgs: (stage) => ['--nats-ca', ca.caFile, '--nats-cert', client().certFile, '--nats-key', client().keyFile,
          '--nats-nkey', seedFileOf(keysDir, `stage.tlshosts.${stage}`)],
        routerArgs: ['--nats-ca', path.join(dir, 'ca', 'ca.crt'), '--nats-cert', path.join(dir, 'ca', 'client.crt'), '--nats-key', path.join(dir, 'ca', 'client.key'),
          '--nats-nkey', seedFileOf(keysDir, 'router')],
      },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  test('every server requires TLS of clients and routes, and the routes are up', async () => {
    for (const node of stack.nats.nodes) {
      const varz = await (await fetch(`${node.monitor}/varz`, { signal: AbortSignal.timeout(5000) })).json() as
        { tls_required?: boolean; tls_verify?: boolean; cluster?: { tls_required?: boolean; tls_verify?: boolean } };
      assert.equal(varz.tls_required, true, `${node.name} requires TLS of clients`);
      assert.equal(varz.tls_verify, true, `${node.name} verifies client certificates`);
      assert.equal(varz.cluster?.tls_required, true, `${node.name} requires TLS on routes`);
      assert.equal(varz.cluster?.tls_verify, true, `${node.name} verifies the other servers`);
    }
  });

  test('a request completes; the router\'s server stops, the router reconnects to another over TLS, and the next request completes', async () => {
    const first = await run(stack.client(), { input: 'a river', request_id: 'tls-1' }, { deadline: new Date(Date.now() + DEADLINE_MS) });
    assert.equal(first.stages.length, 2);
    assert.ok(first.stages.every((s) => s.text.length > 0), JSON.stringify(first.stages));

    const server = await stack.nats.serverOf('fslm-router');
    assert.ok(server, 'the router is connected to one of the servers');
    const before = reconnects(stack.router).length;
    await server.stop();
    const reconnect = await waitFor(() => reconnects(stack.router).length > before && reconnects(stack.router).at(-1),
      { timeoutMs: 30_000, what: 'the router to reconnect to NATS' });
    assert.ok(!String(reconnect.data).startsWith(server.host.ip), `the router reconnected to ${reconnect.data}, not to the stopped server`);
    const now = await stack.nats.serverOf('fslm-router');
    assert.ok(now && now !== server, 'the router holds a connection to a running server');

    const second = await run(stack.client(), { input: 'a mountain', request_id: 'tls-2' }, { deadline: new Date(Date.now() + DEADLINE_MS) });
    assert.equal(second.stages.length, 2);
    assert.ok(second.stages.every((s) => s.text.length > 0), JSON.stringify(second.stages));
    await server.start();
  });

  test('a client without the CA, or with the CA but no NKey identity, is refused', async () => {
    const node = stack.nats.nodes.find((n) => n.running())!;
    // Without the CA: the server's certificate is not trusted (and the server requires TLS anyway).
    await assert.rejects(connect({ servers: node.url, reconnect: false, timeout: 10_000, maxReconnectAttempts: 0 }),
      (e: Error) => /certificate|TLS|tls/i.test(e.message), 'a client without the CA is refused');
    // With the CA and a client certificate but no identity: the server refuses the connection.
    const options = natsConnectionOptions({
      servers: [node.url], name: 'no-identity', tls: { caFile: ca.caFile, certFile: ca.files('client').certFile, keyFile: ca.files('client').keyFile },
    });
    await assert.rejects(connect({ ...options, reconnect: false, timeout: 10_000, maxReconnectAttempts: 0 }),
      (e: Error) => /authorization/i.test(e.message), 'a client without an NKey identity is refused');
  });
});
