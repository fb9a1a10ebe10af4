// The dashboard checked against real data: a real Prometheus (Debian's package) runs the committed local scrape
// configuration against a real 4-stage stack (nats-server, four `fslm stage` processes on the tiny model, the
// router) that has served requests, and every query of every panel in deploy/grafana/fslm-dashboard.json is run
// through the Prometheus HTTP API: each must return series, stage panels one for every stage.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StageServiceClient } from '../../services/shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../services/shared/proto.ts';
import { STACK_PANELS, STAGE_PANELS } from '../../scripts/dashboard/fslm-dashboard.ts';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startPrometheus, type Prometheus } from '../support/prometheus.ts';
import { startCluster, type Cluster } from '../stack/support/cluster.ts';
import { grpcCode, run } from '../stack/support/grpc-calls.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';

const STACK = 'dash4';
const stack = StackBuilder.fourRoles(STACK, 12);
// Wide enough to hold the scrape before the second batch of requests and the one after it.
const RANGE = '10m';

interface DashboardPanel {
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string }>;
}

/** A stage's gRPC Generate with an empty prompt: refused with INVALID_ARGUMENT (a real error, counted by code). */
function refusedAtStage(address: string): Promise<string> {
  const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
  const client: StageServiceClient = new proto.fslm.v1.StageService(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.Generate({ prompt: '', request_id: 'dash-invalid' }, { deadline: Date.now() + 30_000 });
    call.on('data', () => undefined);
    call.on('error', (error) => {
      client.close();
      resolve(grpcCode(error));
    });
    call.on('end', () => {
      client.close();
      resolve('OK');
    });
  });
}

describe('the Grafana dashboard on a real Prometheus scraping a real 4-stage stack', { timeout: 20 * 60_000 }, () => {
  let cluster: Cluster;
  let prometheus: Prometheus;
  const panels = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'deploy/grafana/fslm-dashboard.json'), 'utf8')) as { panels: DashboardPanel[] }).panels
    .filter((p) => p.type === 'timeseries');

  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
    const stageTargets = [...cluster.stages.values()].flat().map((p) => String(p.ready.metrics));
    prometheus = await startPrometheus([
      { targets: stageTargets, labels: { job: 'fslm-stage', fslm_stack: STACK } },
      { targets: [cluster.http], labels: { job: 'fslm-router' } },
    ]);
    // Two batches with a scrape between them, so rates over the range see the counters grow.
    await prometheus.scrapedAfter(Date.now());
    for (let i = 0; i < 2; i++) await run(cluster.client, { input: `Name a colour (${i}).`, request_id: `dash-a${i}` });
    await prometheus.scrapedAfter(Date.now());
    for (let i = 0; i < 3; i++) await run(cluster.client, { input: `Name an animal (${i}).`, request_id: `dash-b${i}` });
    // Real errors: every stage refuses an empty prompt on its gRPC door; the router refuses an empty input.
    for (const [name, replicas] of cluster.stages) assert.equal(await refusedAtStage(String(replicas[0].ready.grpc)), 'INVALID_ARGUMENT', name);
    await assert.rejects(run(cluster.client, { stack: STACK, input: '', request_id: 'dash-empty' }), (e) => grpcCode(e) === 'INVALID_ARGUMENT');
    await prometheus.scrapedAfter(Date.now());
  });
  after(async () => {
    await prometheus?.stop();
    await cluster?.stop();
  });

  const instant = (expr: string) => expr.replaceAll('$__rate_interval', RANGE).replaceAll('$stack', STACK);

  test('the dashboard has the panels the test expects (the generator and the file agree)', () => {
    assert.deepEqual(panels.map((p) => p.title), [...STACK_PANELS, ...STAGE_PANELS].map((p) => p.title));
  });

  for (const spec of STAGE_PANELS) {
    test(`stage panel "${spec.title}": every query returns a series for each of the 4 stages`, async () => {
      const panel = panels.find((p) => p.title === spec.title)!;
      for (const target of panel.targets!) {
        const series = await prometheus.query(instant(target.expr));
        const stages = [...new Set(series.map((s) => s.metric.fslm_stage))].sort();
        assert.deepEqual(stages, [...stack.stageNames].sort(), `${spec.title} ${target.refId}: ${instant(target.expr)} → ${JSON.stringify(series)}`);
        assert.ok(series.every((s) => s.metric.fslm_stack === STACK), `${spec.title} ${target.refId}: every series names the stack`);
        assert.ok(series.every((s) => Number.isFinite(s.value) && s.value >= 0), `${spec.title} ${target.refId}: finite values ${JSON.stringify(series)}`);
      }
    });
  }

  for (const spec of STACK_PANELS) {
    test(`stack panel "${spec.title}": every query returns a series for the stack`, async () => {
      const panel = panels.find((p) => p.title === spec.title)!;
      for (const target of panel.targets!) {
        const series = await prometheus.query(instant(target.expr));
        assert.ok(series.some((s) => s.metric.fslm_stack === STACK), `${spec.title} ${target.refId}: ${instant(target.expr)} → ${JSON.stringify(series)}`);
        assert.ok(series.every((s) => Number.isFinite(s.value) && s.value >= 0), `${spec.title} ${target.refId}: finite values`);
      }
    });
  }

  test('the values are the traffic the stack served: latencies above zero, the refused requests counted by code', async () => {
    const p50 = await prometheus.query(instant(panels.find((p) => p.title === 'Stage request latency')!.targets![0].expr));
    assert.ok(p50.every((s) => s.value > 0), JSON.stringify(p50));
    const errors = await prometheus.query(instant(panels.find((p) => p.title === 'Stage errors by code')!.targets![0].expr));
    for (const name of stack.stageNames) {
      const invalid = errors.find((s) => s.metric.fslm_stage === name && s.metric.code === 'INVALID_ARGUMENT');
      assert.ok(invalid && invalid.value > 0, `${name}: the refused empty prompt shows under INVALID_ARGUMENT ${JSON.stringify(errors)}`);
    }
    const stackErrors = await prometheus.query(instant(panels.find((p) => p.title === 'Stack errors by code')!.targets![0].expr));
    assert.ok(stackErrors.some((s) => s.metric.code === 'INVALID_ARGUMENT' && s.value > 0), JSON.stringify(stackErrors));
  });
});
