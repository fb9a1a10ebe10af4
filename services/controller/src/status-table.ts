// `fslm status` output: runs and stages as kubectl-style tables, from the status model.
import type { StackTrainingRun, StageStatus } from './types.ts';
import { isFinished } from './types.ts';

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** kubectl's short ages: 45s, 12m, 3h, 2d. */
export function age(from: string | undefined, now: Date): string {
  if (!from) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
}

function seconds(start: string | undefined, end: string | undefined, now: Date): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : now.getTime()) - Date.parse(start);
  return ms < 100_000 ? `${(ms / 1000).toFixed(1)}s` : age(start, end ? new Date(end) : now);
}

const num = (v: number | undefined): string => (v === undefined ? '' : String(Number(v.toPrecision(4))));

export interface RunRow {
  run: StackTrainingRun;
  /** False when the run is not finished and no executor holds it (killed). */
  live: boolean;
}

const phaseOf = ({ run, live }: RunRow): string => {
  const phase = run.status?.phase ?? 'Pending';
  return isFinished(run.status?.phase) || live ? phase : `${phase} (executor gone)`;
};

export function runsTable(rows: readonly RunRow[], now: Date): string {
  return table(['NAME', 'PHASE', 'PROGRESS', 'AGE', 'REASON'], rows.map((r) => [
    r.run.metadata.name, phaseOf(r), r.run.status?.progress ?? '', age(r.run.metadata.creationTimestamp, now), r.run.status?.reason ?? '',
  ]));
}

function stageRow(s: StageStatus, now: Date): string[] {
  const p = s.progress;
  return [
    s.name, s.phase, String(s.attempts), s.lastExitCode === undefined ? '' : String(s.lastExitCode),
    p?.step !== undefined ? `${p.step}/${p.total ?? '?'}` : '', num(p?.loss), seconds(s.startTime, s.finishTime, now),
    s.reason ?? '', (s.phase === 'Succeeded' ? s.outputs?.model : s.message) ?? '',
  ];
}

export function runDetail(row: RunRow, now: Date): string {
  const st = row.run.status;
  const head = runsTable([row], now);
  const stages = table(['STAGE', 'PHASE', 'ATTEMPTS', 'EXIT', 'STEP', 'LOSS', 'TIME', 'REASON', 'OUTPUT / MESSAGE'],
    (st?.stages ?? []).map((s) => stageRow(s, now)));
  const extra = [st?.message ? `message: ${st.message}` : '', st?.traceparent ? `traceparent: ${st.traceparent}` : ''].filter(Boolean);
  return [head, '', stages, ...(extra.length ? ['', ...extra] : [])].join('\n');
}
