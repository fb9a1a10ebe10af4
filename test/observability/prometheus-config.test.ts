// The committed Prometheus configurations pass `promtool check config` (Debian's prometheus package). Debian
// builds Prometheus without Kubernetes service discovery, so for the cluster configuration its
// kubernetes_sd_configs blocks are swapped for static targets and everything else (jobs, relabelling) is checked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../support/models.ts';

function promtool(file: string): string {
  return execFileSync('promtool', ['check', 'config', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

describe('deploy/prometheus', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-promtool-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prometheus-local.yml is valid, with its file_sd targets file beside it', () => {
    writeFileSync(path.join(dir, 'prometheus.yml'), readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/prometheus-local.yml')));
    writeFileSync(path.join(dir, 'fslm-targets.json'), JSON.stringify([{ targets: ['127.0.0.1:9464'], labels: { job: 'fslm-stage', fslm_stack: 'default' } }]));
    assert.match(promtool(path.join(dir, 'prometheus.yml')), /SUCCESS/);
  });

  test('prometheus.yml: a stage job and a router job, pod discovery, and relabelling that promtool accepts', () => {
    const config = parse(readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; kubernetes_sd_configs?: Array<{ role: string }>; static_configs?: unknown; relabel_configs: Array<Record<string, unknown>> }>;
    };
    assert.deepEqual(config.scrape_configs.map((c) => c.job_name), ['fslm-stage', 'fslm-router']);
    for (const job of config.scrape_configs) {
      assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod' }], job.job_name);
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ['127.0.0.1:9464'] }];
    }
    const stage = config.scrape_configs[0].relabel_configs;
    assert.ok(stage.some((r) => r.target_label === 'fslm_stack' && (r.source_labels as string[])[0] === '__meta_kubernetes_pod_label_fslm_dev_stack'));
    writeFileSync(path.join(dir, 'cluster.yml'), stringify(config));
    assert.match(promtool(path.join(dir, 'cluster.yml')), /SUCCESS/);
  });
});
