// The shape of bench/results/latest.json ({"figures": [{id, name, value, unit, goal, met, detail}], "machine": {...}}; README, "Benchmarks").
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Figure {
  id: string;
  name: string;
  value: number;
  unit: string;
  goal: string;
  met: boolean;
  detail: Record<string, unknown>;
}

export function atLeast(id: string, name: string, value: number, goal: number, detail: Record<string, unknown>): Figure {
  return { id, name, value: Math.round(value * 1000) / 1000, unit: 'x', goal: `>= ${goal}`, met: value >= goal, detail };
}

export function atMost(id: string, name: string, value: number, goal: number, unit: string, detail: Record<string, unknown>): Figure {
  return { id, name, value: Math.round(value * 1000) / 1000, unit, goal: `<= ${goal}`, met: value <= goal, detail };
}

export async function writeResults(file: string, figures: Figure[], extra: Record<string, unknown>): Promise<void> {
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()}-${os.arch()}` };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ figures, machine, ...extra }, null, 2)}\n`);
}
