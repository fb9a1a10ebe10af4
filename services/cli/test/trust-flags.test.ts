// The trust flags every process shares: which go together, and `--nats` lists, refused with messages that
// name the flag and never quote a credential.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseNatsServers } from '../../shared/nats-connect.ts';
import { clientTlsOf, natsTrustOf, serverTlsOf } from '../../shared/trust-options.ts';

describe('trust flags', { timeout: 10_000 }, () => {
  test('--nats takes one server or a comma-separated list, with or without a scheme', () => {
    assert.deepEqual(parseNatsServers('nats://10.0.0.1:4222'), ['nats://10.0.0.1:4222']);
    assert.deepEqual(parseNatsServers('tls://a:4222, nats://b:4222,c:4222'), ['tls://a:4222', 'nats://b:4222', 'c:4222']);
  });

  test('a bad --nats entry is refused naming which one; credentials in a URL are refused without being quoted', () => {
    assert.throws(() => parseNatsServers('nats://a:4222,,b:1'), /--nats: server 2 of 3 is empty/);
    assert.throws(() => parseNatsServers('http://a:1'), /server 1 of 1 \("http:\/\/a:1"\) must use nats:\/\/ or tls:\/\//);
    assert.throws(() => parseNatsServers('nats://a:0'), /needs a host and a port/);
    for (const withSecret of ['nats://user:hunter2@a:4222', 'tls://hunter2@a:4222', 'user:hunter2@a:4222']) {
      assert.throws(() => parseNatsServers(withSecret), (e: Error) => /put credentials in a seed file/.test(e.message) && !e.message.includes('hunter2'));
    }
  });

  test('server TLS: certificate and key together; a CA only with client authentication, and client authentication only with a CA', () => {
    assert.equal(serverTlsOf({}), undefined);
    assert.deepEqual(serverTlsOf({ tlsCert: 'c', tlsKey: 'k' }), { certFile: 'c', keyFile: 'k', caFile: undefined, requireClientCert: false });
    assert.deepEqual(serverTlsOf({ tlsCert: 'c', tlsKey: 'k', tlsCa: 'ca', tlsClientAuth: true }), { certFile: 'c', keyFile: 'k', caFile: 'ca', requireClientCert: true });
    assert.throws(() => serverTlsOf({ tlsCert: 'c' }), /--tls-cert and --tls-key go together/);
    assert.throws(() => serverTlsOf({ tlsCert: 'c', tlsKey: 'k', tlsClientAuth: true }), /--tls-client-auth needs --tls-ca/);
    assert.throws(() => serverTlsOf({ tlsCert: 'c', tlsKey: 'k', tlsCa: 'ca' }), /give --tls-client-auth too/);
    assert.throws(() => serverTlsOf({ tlsClientAuth: true }), /need --tls-cert and --tls-key/);
  });

  test('client TLS and NATS trust: a certificate needs its key and the CA', () => {
    assert.equal(clientTlsOf({}), undefined);
    assert.deepEqual(clientTlsOf({ tlsCa: 'ca' }), { caFile: 'ca', certFile: undefined, keyFile: undefined });
    assert.throws(() => clientTlsOf({ tlsCert: 'c', tlsKey: 'k' }), /need --tls-ca/);
    assert.throws(() => clientTlsOf({ tlsCa: 'ca', tlsCert: 'c' }), /go together/);
    assert.deepEqual(natsTrustOf({ natsNkey: 'seed' }), { tls: undefined, nkeySeedFile: 'seed' });
    assert.throws(() => natsTrustOf({ natsCert: 'c', natsKey: 'k' }), /need --nats-ca/);
    assert.throws(() => natsTrustOf({ natsCa: 'ca', natsKey: 'k' }), /go together/);
  });
});
