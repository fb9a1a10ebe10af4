import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, parseDuration } from '../src/config.ts';

test('the documented flags parse into the config', { timeout: 30_000 }, () => {
  const c = parseConfig(['--kubeconfig', '/k', '--namespace=train', '--leader-elect=false', '--metrics', '127.0.0.1:9464', '--otlp', 'http://c:4318/v1/traces',
    '--lease-duration', '6s', '--renew-deadline', '4s', '--retry-period', '500ms', '--identity', 'a'], {});
  assert.equal(c.kubeconfig, '/k');
  assert.equal(c.namespace, 'train');
  assert.equal(c.leaderElect, false);
  assert.deepEqual(c.metrics, { host: '127.0.0.1', port: 9464 });
  assert.equal(c.otlpUrl, 'http://c:4318/v1/traces');
  assert.deepEqual([c.leaseDurationMs, c.renewDeadlineMs, c.retryPeriodMs], [6000, 4000, 500]);
  assert.equal(c.leaseNamespace, 'train');
  assert.equal(c.identity, 'a');
});

test('defaults: leader election on, $KUBECONFIG, the pod name and namespace from the downward API', { timeout: 30_000 }, () => {
  const c = parseConfig([], { KUBECONFIG: '/env/k', POD_NAME: 'ctl-0', POD_NAMESPACE: 'fslm-system' });
  assert.equal(c.leaderElect, true);
  assert.equal(c.kubeconfig, '/env/k');
  assert.equal(c.identity, 'ctl-0');
  assert.equal(c.leaseNamespace, 'fslm-system');
  assert.equal(c.metrics, undefined);
  assert.equal(parseConfig(['--leader-elect'], {}).leaderElect, true);
});

test('every bad flag is reported in one error', { timeout: 30_000 }, () => {
  assert.throws(() => parseConfig(['--metrics', 'nope', '--otlp', 'ftp://x', '--lease-duration', 'soon', '--bogus', '1'], {}), (e: Error) => {
    for (const f of ['--metrics', '--otlp', '--lease-duration', '--bogus']) assert.match(e.message, new RegExp(f));
    return true;
  });
});

test('parseDuration reads ms, s and m', { timeout: 30_000 }, () => {
  assert.deepEqual(['250ms', '15s', '2m', '1.5s', '15'].map(parseDuration), [250, 15000, 120000, 1500, undefined]);
});

test('--otlp and the service name default to the standard OpenTelemetry variables; the flag wins', { timeout: 30_000 }, () => {
  assert.equal(parseConfig([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).otlpUrl, 'http://c:4318/v1/traces');
  assert.equal(parseConfig([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/x' }).otlpUrl, 'http://t:4318/x');
  assert.equal(parseConfig(['--otlp', 'http://f:1/v1/traces'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).otlpUrl, 'http://f:1/v1/traces');
  assert.equal(parseConfig([], {}).otlpUrl, undefined);
  assert.equal(parseConfig([], {}).serviceName, 'fslm-controller');
  assert.equal(parseConfig([], { OTEL_SERVICE_NAME: 'ctl' }).serviceName, 'ctl');
});

test('--metrics takes HOST:PORT, an empty host meaning every interface', { timeout: 30_000 }, () => {
  assert.deepEqual(parseConfig(['--metrics', ':9464'], {}).metrics, { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(parseConfig(['--metrics', '[::1]:9464'], {}).metrics, { host: '::1', port: 9464 });
  for (const bad of ['9464', 'h:', 'h:70000', 'h:1e3']) assert.throws(() => parseConfig(['--metrics', bad], {}), /--metrics/, bad);
});

test('NetworkPolicy flags: NATS pods, scrapers, API server addresses and the collector; policies on by default', { timeout: 30_000 }, () => {
  assert.equal(parseConfig([], {}).serving.network!.enabled, true);
  const c = parseConfig(['--network-policies=false', '--nats-pods', 'bus/app=nats,tier=msg', '--metrics-scrapers', 'team=obs',
    '--api-server-cidrs', '10.0.0.1/32,fd00::1/128', '--stack-otlp', 'http://otel.obs.svc:4318', '--collector-pods', 'obs/app=otelcol'], {});
  assert.deepEqual(c.serving.network, {
    enabled: false, natsNamespace: 'bus', natsPodLabels: { app: 'nats', tier: 'msg' }, scraperNamespaceLabels: { team: 'obs' },
    apiServerCidrs: ['10.0.0.1/32', 'fd00::1/128'], collector: { url: 'http://otel.obs.svc:4318', namespace: 'obs', podLabels: { app: 'otelcol' } },
  });
  assert.throws(() => parseConfig(['--network-policies=maybe', '--nats-pods', 'nats', '--metrics-scrapers', 'x', '--api-server-cidrs', '10.0.0.1/33',
    '--stack-otlp', 'http://o:4318'], {}), (e: Error) => {
    for (const f of ['--network-policies', '--nats-pods: "nats"', '--metrics-scrapers: "x"', '--api-server-cidrs: "10.0.0.1/33"', '--stack-otlp and --collector-pods go together']) {
      assert.ok(e.message.includes(f), `${f} in ${e.message}`);
    }
    return true;
  });
});
