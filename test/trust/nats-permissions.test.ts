// NATS trust on a real nats-server configured by `fslm nats-config` for a two-stage stack: a stage's identity
// may subscribe only to its own stage's subjects and publish only to reply inboxes; the router's may publish
// only to the stack's stage subjects and subscribe only to inboxes; wrong or missing credentials, a client
// without a certificate and a plaintext client are refused. The server itself says no (its -ERR replies).
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, nkeys, type ConnectionOptions, type NatsConnection } from 'nats';
import { seedFileOf } from '../../services/cli/nats-config.ts';
import { natsConnectionOptions } from '../../services/shared/nats-connect.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';
import { waitFor } from '../support/wait.ts';
import { startTrustedNats, type TrustedNats } from './support/trusted-nats.ts';

const ALPHA = 'stage.trust.alpha';
const BETA = 'stage.trust.beta';

/** Error codes the server sent to a connection (permission violations arrive as async errors). */
function serverErrors(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') seen.push(String(s.data));
  })();
  return seen;
}

/** The violations nats-server logged for `kind` (Publish or Subscription) on `subject`. */
function violations(nats: TrustedNats, kind: 'Publish' | 'Subscription', subject: string): number {
  return nats.output().split('\n').filter((line) => line.includes(`${kind} Violation - Subject "${subject}"`)).length;
}

describe('NATS identities and per-subject permissions', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-nats-trust-'));
  let nats: TrustedNats;
  const open: NatsConnection[] = [];
  const as = async (identity: string) => {
    const nc = await nats.connectAs(identity);
    open.push(nc);
    return nc;
  };

  before(async () => {
    const stack = new StackBuilder('trust').stage({ name: 'alpha', template: '{input}' }).stage({ name: 'beta', template: '{stages.alpha}' });
    nats = await startTrustedNats(dir, stack.write());
  });
  after(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await nats?.stop();
  });

  test('a stage identity may subscribe to its own subjects but not to another stage\'s', async () => {
    const alpha = await as(ALPHA);
    const errors = serverErrors(alpha);
    const own = alpha.subscribe('fslm.trust.alpha.run', { queue: 'fslm.trust.alpha' });
    const ownReplica = alpha.subscribe('fslm.trust.alpha.replica.r1');
    let refusal: Error | null = null;
    alpha.subscribe('fslm.trust.beta.run', { callback: (error) => (refusal ??= error) });
    await alpha.flush();
    await waitFor(() => refusal !== null && errors.length > 0, { timeoutMs: 10_000, what: 'the server to refuse the subscription' });
    assert.match(String(refusal!.message), /Permissions Violation for Subscription to "fslm\.trust\.beta\.run"/);
    assert.deepEqual(errors, ['PERMISSIONS_VIOLATION'], 'one refusal, for the other stage\'s subject only');
    assert.ok(!own.isClosed() && !ownReplica.isClosed(), 'its own subscriptions stay');
    assert.equal(violations(nats, 'Subscription', 'fslm.trust.beta.run'), 1);
    assert.equal(violations(nats, 'Subscription', 'fslm.trust.alpha.run'), 0);
  });

  test('a stage identity may not publish to another stage\'s subjects (nor its own), only to reply inboxes', async () => {
    const alpha = await as(ALPHA);
    const beta = await as(BETA);
    const router = await as('router');
    const errors = serverErrors(alpha);
    const received: string[] = [];
    beta.subscribe('fslm.trust.beta.run', { callback: (_e, msg) => received.push(new TextDecoder().decode(msg.data)) });
    await beta.flush();
    alpha.publish('fslm.trust.beta.run', new TextEncoder().encode('from alpha'));
    alpha.publish('fslm.trust.alpha.run', new TextEncoder().encode('to itself'));
    await waitFor(() => errors.length >= 2, { timeoutMs: 10_000, what: 'the server to refuse both publications' });
    assert.deepEqual(errors, ['PERMISSIONS_VIOLATION', 'PERMISSIONS_VIOLATION']);
    assert.equal(violations(nats, 'Publish', 'fslm.trust.beta.run'), 1);
    assert.equal(violations(nats, 'Publish', 'fslm.trust.alpha.run'), 1);
    // The router may: its message arrives, alpha's never did (the server dropped it before routing).
    router.publish('fslm.trust.beta.run', new TextEncoder().encode('from the router'));
    await waitFor(() => received.length > 0, { timeoutMs: 10_000, what: 'the router\'s message' });
    await beta.flush();
    assert.deepEqual(received, ['from the router']);
    // Replies to an inbox are allowed.
    const inbox = router.subscribe('_INBOX.trust-test.*');
    await router.flush();
    alpha.publish('_INBOX.trust-test.1', new TextEncoder().encode('a reply'));
    for await (const msg of inbox) {
      assert.equal(new TextDecoder().decode(msg.data), 'a reply');
      break;
    }
  });

  test('the router identity may not subscribe to stage subjects nor publish outside its stacks', async () => {
    const router = await as('router');
    const errors = serverErrors(router);
    let refusal: Error | null = null;
    router.subscribe('fslm.trust.alpha.run', { callback: (error) => (refusal ??= error) });
    router.publish('fslm.other.stage.run', new TextEncoder().encode('x'));
    await waitFor(() => refusal !== null && errors.length >= 2, { timeoutMs: 10_000, what: 'both refusals' });
    assert.match(String(refusal!.message), /Permissions Violation for Subscription to "fslm\.trust\.alpha\.run"/);
    assert.equal(violations(nats, 'Publish', 'fslm.other.stage.run'), 1);
  });

  test('wrong credentials are refused: an unknown NKey, no NKey, no client certificate, no TLS', async () => {
    const stranger = path.join(dir, 'stranger.nk');
    writeFileSync(stranger, new TextDecoder().decode((nkeys as { createUser(): { getSeed(): Uint8Array } }).createUser().getSeed()), { mode: 0o600 });
    const refused = (options: ConnectionOptions, code: RegExp) =>
      assert.rejects(connect({ ...options, maxReconnectAttempts: 0, reconnect: false, timeout: 10_000 }), (e: { code?: string }) => code.test(String(e.code)));
    const client = { caFile: nats.ca.caFile, ...nats.ca.files('client') };
    await refused(natsConnectionOptions({ servers: [nats.url], name: 'stranger', tls: client, nkeySeedFile: stranger }), /^AUTHORIZATION_VIOLATION$/);
    await refused(natsConnectionOptions({ servers: [nats.url], name: 'no-nkey', tls: client }), /^AUTHORIZATION_VIOLATION$/);
    await waitFor(() => (nats.output().match(/- authentication error/g) ?? []).length === 2, { timeoutMs: 10_000, what: 'the server to log both refusals' });
    // Under TLS 1.3 the client's handshake is done before the server checks for its certificate: the client sees
    // the server's "certificate required" alert or, when the server closes first, a reset. The server's log
    // below is what shows the reason.
    await refused(natsConnectionOptions({ servers: [nats.url], name: 'no-certificate', tls: { caFile: nats.ca.caFile }, nkeySeedFile: seedFileOf(nats.keysDir, ALPHA) }),
      /CERTIFICATE_REQUIRED|^ECONNRESET$/);
    await waitFor(() => nats.output().includes("TLS handshake error: tls: client didn't provide a certificate"), { timeoutMs: 10_000, what: 'the server to log the refused handshake' });
    // The server requires TLS: a client without the CA cannot even trust it, and nothing passes in plaintext.
    await refused({ servers: [nats.url.replace('tls://', 'nats://')], name: 'plaintext' }, /.+/);
  });
});
