// What the chaos run prints: per fault window, the requests that started in it and how they ended
// (completed / failed with a clear status, by code / lost / hung past their deadline), the totals, and
// the resident memory of the stack's processes at the start and at the end.
import { readFileSync } from 'node:fs';
import type { HostStack } from '../test/support/host-stack.ts';
import type { FaultWindow } from './faults.ts';
import type { RequestRecord } from './load.ts';

/** Resident memory of the stack's processes (MiB), by role. */
export interface StackMemory {
  nats: number;
  stages: number;
  router: number;
  total: number;
}

export interface WindowCounts {
  window: string;
  atS: number;
  detail: string;
  started: number;
  completed: number;
  failed: number;
  /** Failed requests by status code. */
  failedBy: Record<string, number>;
  lost: number;
  hung: number;
}

export interface ChaosSummary {
  windows: WindowCounts[];
  total: WindowCounts;
  memory: { start: StackMemory; end: StackMemory };
  /** NATS connection changes the processes reported (disconnect / reconnect), by process. */
  connections: Array<{ process: string; disconnects: number; reconnects: number }>;
  /** Warnings and errors of the NATS servers, by kind (e.g. "Slow Consumer Detected"). */
  natsWarnings: Record<string, number>;
  /** Details of every request that did not complete. */
  problems: Array<{ id: string; door: string; window: string; outcome: string; detail: string }>;
}

function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The resident memory of every process on the stack's hosts now. */
export async function stackMemory(stack: HostStack): Promise<StackMemory> {
  const sum = async (hosts: string[]) => {
    let total = 0;
    for (const name of hosts) for (const pid of await stack.net.host(name).pids()) total += rssMiB(pid);
    return Math.round(total);
  };
  const nats = await sum(stack.nats.nodes.map((n) => n.host.name));
  const stages = await sum([...stack.replicas.keys()]);
  const router = await sum([stack.routerHost.name]);
  return { nats, stages, router, total: nats + stages + router };
}

function empty(window: string, atS: number, detail: string): WindowCounts {
  return { window, atS, detail, started: 0, completed: 0, failed: 0, failedBy: {}, lost: 0, hung: 0 };
}

function add(counts: WindowCounts, record: RequestRecord): void {
  counts.started++;
  const outcome = record.outcome;
  if (!outcome) counts.hung++;
  else if (outcome.kind === 'completed') counts.completed++;
  else if (outcome.kind === 'failed') {
    counts.failed++;
    counts.failedBy[outcome.code] = (counts.failedBy[outcome.code] ?? 0) + 1;
  } else counts[outcome.kind]++;
}

/** What the processes and the NATS servers reported about their connections during the run. */
export function connectionReport(stack: HostStack): Pick<ChaosSummary, 'connections' | 'natsWarnings'> {
  const connections = stack.history.map(({ role, process }) => ({
    process: role,
    disconnects: process.events.filter((e) => e.event === 'nats' && e.type === 'disconnect').length,
    reconnects: process.events.filter((e) => e.event === 'nats' && e.type === 'reconnect').length,
  })).filter((c) => c.disconnects + c.reconnects > 0);
  const natsWarnings: Record<string, number> = {};
  for (const line of stack.nats.nodes.flatMap((n) => n.warnings)) {
    // "[WRN] 10.231.1.17:40000 - cid:12 - "name" - Slow Consumer Detected: ..." -> "Slow Consumer Detected"
    const kind = line.replace(/^.*\[(WRN|ERR)\]\s*/, '').split(' - ').at(-1)!.replace(/[:(].*$/, '').replace(/\d+(\.\d+)*/g, 'N').trim();
    natsWarnings[kind] = (natsWarnings[kind] ?? 0) + 1;
  }
  return { connections, natsWarnings };
}

export function summarize(
  windows: FaultWindow[], records: RequestRecord[], memory: { start: StackMemory; end: StackMemory }, links: Pick<ChaosSummary, 'connections' | 'natsWarnings'>,
): ChaosSummary {
  const rows = windows.map((w) => empty(w.label, w.atS, w.detail));
  const total = empty('total', 0, '');
  const problems: ChaosSummary['problems'] = [];
  for (const record of records) {
    add(rows[record.window], record);
    add(total, record);
    const outcome = record.outcome;
    if (!outcome || outcome.kind !== 'completed') {
      const kind = !outcome ? 'hung' : outcome.kind === 'failed' ? `failed ${outcome.code}` : outcome.kind;
      problems.push({ id: record.id, door: record.door, window: windows[record.window].label, outcome: kind, detail: outcome && 'detail' in outcome ? outcome.detail : 'never ended' });
    }
  }
  return { windows: rows, total, memory, ...links, problems };
}

/** The summary as a text table. */
export function formatSummary(summary: ChaosSummary): string {
  const head = ['t (s)', 'window', 'started', 'completed', 'failed (status)', 'lost', 'hung'];
  const line = (c: WindowCounts, t: string) => [t, c.window, String(c.started), String(c.completed),
    c.failed ? `${c.failed} (${Object.entries(c.failedBy).map(([k, v]) => `${k} ${v}`).join(', ')})` : '0', String(c.lost), String(c.hung)];
  const rows = [head, ...summary.windows.map((c) => line(c, c.atS.toFixed(1))), line(summary.total, '')];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const text = rows.map((r) => r.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  '));
  text.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  text.splice(text.length - 1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const mem = (m: StackMemory) => `${m.total} MiB (NATS ${m.nats}, stages ${m.stages}, router ${m.router})`;
  const details = summary.windows.filter((w) => w.detail).map((w) => `  ${w.window}: ${w.detail}`);
  const problems = summary.problems.map((p) => `  ${p.id} (${p.door}, ${p.window}): ${p.outcome}: ${p.detail}`);
  return [
    ...text, '',
    'faults:', ...details, '',
    `stack memory (RSS): start ${mem(summary.memory.start)}, end ${mem(summary.memory.end)}`,
    `NATS reconnects: ${summary.connections.map((c) => `${c.process} ${c.reconnects}`).join(', ') || 'none'}`,
    `NATS server warnings: ${Object.entries(summary.natsWarnings).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}`,
    ...(problems.length ? ['', 'not completed:', ...problems] : []),
  ].join('\n');
}
