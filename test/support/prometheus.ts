// A real Prometheus for tests (Debian's `prometheus` package, installed by scripts/setup) running the committed
// local scrape configuration deploy/prometheus/prometheus-local.yml on loopback, with its file_sd targets
// written by the test, and a small client of its HTTP API.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './models.ts';
import { onFreePorts } from './ports.ts';
import { httpOk, startServerProcess } from './server-process.ts';

/** One file_sd target group. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** One series of an instant query. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** A running Prometheus. */
export interface Prometheus {
  url: string;
  /** Instant query at the current time; throws on a query error. */
  query(expr: string): Promise<Sample[]>;
  /** The active targets: scrape URL, health and last scrape time. */
  targets(): Promise<Array<{ scrapeUrl: string; health: string; lastScrape: string; labels: Record<string, string> }>>;
  /** Resolves once every target has been scraped successfully after `since` (ms since the epoch), bounded by `timeoutMs`. */
  scrapedAfter(since: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts Prometheus on the committed local configuration, scraping `groups`. */
export async function startPrometheus(groups: TargetGroup[]): Promise<Prometheus> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-prometheus-'));
  copyFileSync(path.join(REPO_ROOT, 'deploy/prometheus/prometheus-local.yml'), path.join(dir, 'prometheus.yml'));
  writeFileSync(path.join(dir, 'fslm-targets.json'), JSON.stringify(groups));
  let started;
  try {
    started = await onFreePorts(1, async ([port]) => ({
      url: `http://127.0.0.1:${port}`,
      server: await startServerProcess({
        name: 'prometheus',
        command: 'prometheus',
        args: [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
        ready: () => httpOk(`http://127.0.0.1:${port}/-/ready`),
      }),
    }));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { url, server } = started;
  const api = async (pathAndQuery: string): Promise<unknown> => {
    const res = await fetch(`${url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${body.error ?? res.status}`);
    return body.data;
  };
  const targets = async () => {
    const data = (await api('/api/v1/targets?state=active')) as { activeTargets: Array<{ scrapeUrl: string; health: string; lastScrape: string; labels: Record<string, string> }> };
    return data.activeTargets;
  };
  const expected = groups.reduce((n, g) => n + g.targets.length, 0);
  return {
    url,
    query: async (expr) => {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    targets,
    scrapedAfter: async (since, timeoutMs = 60_000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const active = await targets();
        const done = active.filter((t) => t.health === 'up' && Date.parse(t.lastScrape) > since);
        if (active.length === expected && done.length === expected) return;
        if (Date.now() > end) throw new Error(`targets not all scraped within ${timeoutMs} ms: ${JSON.stringify(active.map((t) => [t.scrapeUrl, t.health, t.lastScrape]))}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
