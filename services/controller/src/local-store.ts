// Where the local executor keeps its runs, under one state directory:
//   <state>/runs/<run>/status.json          the run object (metadata, spec, status), as `kubectl get -o json` shows it
//   <state>/runs/<run>/executor.json        the executor process that owns the run while it runs
//   <state>/runs/<run>/<stage>/model        the stage's model (FSLM_OUTPUT)
//   <state>/runs/<run>/<stage>/attempt-N.log  the trainer's stdout and stderr for attempt N
//   <state>/runs/<run>/<stage>/attempt-N.termination.json  its termination message (final metrics or error)
// status.json is replaced atomically (write, then rename), so a reader never sees half a file.
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../../shared/errors.ts';
import type { StackTrainingRun } from './types.ts';
import { isFinished } from './types.ts';

export interface ExecutorRecord {
  pid: number;
  host: string;
  startedAt: string;
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export class LocalRunStore {
  constructor(readonly stateDir: string) {}

  runDir = (run: string): string => path.join(this.stateDir, 'runs', run);
  statusFile = (run: string): string => path.join(this.runDir(run), 'status.json');
  stageDir = (run: string, stage: string): string => path.join(this.runDir(run), stage);
  modelDir = (run: string, stage: string): string => path.join(this.stageDir(run, stage), 'model');
  attemptLog = (run: string, stage: string, attempt: number): string => path.join(this.stageDir(run, stage), `attempt-${attempt}.log`);
  terminationFile = (run: string, stage: string, attempt: number): string => path.join(this.stageDir(run, stage), `attempt-${attempt}.termination.json`);
  private executorFile = (run: string): string => path.join(this.runDir(run), 'executor.json');

  async listRuns(): Promise<string[]> {
    const entries = await readdir(path.join(this.stateDir, 'runs'), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async read(run: string): Promise<StackTrainingRun | undefined> {
    const text = await readFile(this.statusFile(run), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as StackTrainingRun);
  }

  async write(run: StackTrainingRun): Promise<void> {
    const file = this.statusFile(run.metadata.name);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(run, null, 2)}\n`);
    await rename(tmp, file);
  }

  /** The live executor of a run, or undefined when none holds it (never started, finished, or killed). */
  async executor(run: string): Promise<ExecutorRecord | undefined> {
    const text = await readFile(this.executorFile(run), 'utf8').catch(() => undefined);
    if (!text) return undefined;
    const rec = JSON.parse(text) as ExecutorRecord;
    return rec.host === hostname() && pidAlive(rec.pid) ? rec : undefined;
  }

  /**
   * Takes the run's directory for this process. A run that exists is refused: while its executor
   * lives, always; otherwise unless `replace`, which deletes it (models included) first.
   */
  async claim(run: string, replace: boolean): Promise<void> {
    const existing = await this.read(run);
    if (existing || (await readdir(this.runDir(run)).catch(() => undefined))) {
      const owner = await this.executor(run);
      if (owner) throw errors.failedPrecondition(`run ${run} is running (executor pid ${owner.pid}); stop it first`);
      if (!replace) {
        const phase = existing?.status?.phase ?? 'unknown';
        throw errors.failedPrecondition(`run ${run} already exists in ${this.runDir(run)} (phase ${phase}${isFinished(existing?.status?.phase) ? '' : ', executor gone'}); pass --replace to delete it and start again`);
      }
      await rm(this.runDir(run), { recursive: true, force: true });
    }
    await mkdir(this.runDir(run), { recursive: true });
    const rec: ExecutorRecord = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    await writeFile(this.executorFile(run), `${JSON.stringify(rec)}\n`);
  }

  async release(run: string): Promise<void> {
    await rm(this.executorFile(run), { force: true });
  }
}
