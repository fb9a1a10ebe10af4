// The committed Grafana dashboard is the one scripts/dashboard/fslm-dashboard.ts generates (never hand-edited),
// and its shape is what the Prometheus check relies on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fslmDashboardJson, STACK_PANELS, STAGE_PANELS } from '../../scripts/dashboard/fslm-dashboard.ts';
import { REPO_ROOT } from '../support/models.ts';

describe('deploy/grafana/fslm-dashboard.json', { timeout: 60_000 }, () => {
  const file = path.join(REPO_ROOT, 'deploy/grafana/fslm-dashboard.json');

  test('is current: scripts/gen-dashboard writes exactly the committed file', () => {
    assert.equal(readFileSync(file, 'utf8'), fslmDashboardJson(), 'deploy/grafana/fslm-dashboard.json is stale: run scripts/gen-dashboard and commit it');
  });

  test('has a stack row and a stage row with the panels the issue names, each with Prometheus queries', () => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }> };
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Stack', 'Stages']);
    const titles = dashboard.panels.filter((p) => p.type === 'timeseries').map((p) => p.title);
    assert.deepEqual(titles, [...STACK_PANELS, ...STAGE_PANELS].map((p) => p.title));
    for (const wanted of ['Stage request latency', 'Time to first token', 'Time per output token', 'Tokens/s', 'Stage requests in flight', 'Stage errors by code', 'Retries', 'Hand-off gap']) {
      assert.ok(titles.includes(wanted), wanted);
    }
    for (const p of dashboard.panels.filter((x) => x.type === 'timeseries')) {
      assert.ok((p.targets ?? []).length > 0 && p.targets!.every((t) => t.expr.length > 0), p.title);
    }
    const latency = dashboard.panels.find((p) => p.title === 'Stage request latency')!;
    assert.deepEqual(latency.targets!.map((t) => /histogram_quantile\((0\.\d+)/.exec(t.expr)?.[1]), ['0.5', '0.95', '0.99']);
  });
});
