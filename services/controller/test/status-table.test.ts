import { test } from 'node:test';
import assert from 'node:assert/strict';
import { age, runDetail, runsTable, table } from '../src/status-table.ts';
import { RunBuilder, T0, at } from './support/builders.ts';

test('ages read like kubectl', { timeout: 30_000 }, () => {
  assert.equal(age(T0.toISOString(), at(45)), '45s');
  assert.equal(age(T0.toISOString(), at(600)), '10m');
  assert.equal(age(T0.toISOString(), at(3 * 3600)), '3h');
  assert.equal(age(T0.toISOString(), at(3 * 86400)), '3d');
  assert.equal(age(undefined, T0), '<unknown>');
});

test('columns are padded to the widest cell', { timeout: 30_000 }, () => {
  assert.equal(table(['A', 'BB'], [['long', 'x'], ['s', 'y']]), 'A      BB\nlong   x\ns      y');
});

test('a run shows phase and progress; a run without its executor says so; stages show attempts, exit code, step, loss and output', { timeout: 30_000 }, () => {
  const run = new RunBuilder('demo').status({
    phase: 'Running', progress: '1/2', reason: 'JobsRunning', message: 'running: b', traceparent: '00-abc-def-01',
    stages: [
      { name: 'a', phase: 'Succeeded', attempts: 1, lastExitCode: 0, startTime: at(0).toISOString(), finishTime: at(12).toISOString(),
        reason: 'Completed', outputs: { model: 'file:///s/a/model' }, progress: { step: 5, total: 5, loss: 1.234567 } },
      { name: 'b', phase: 'Retrying', attempts: 2, lastExitCode: 1, startTime: at(12).toISOString(), reason: 'Error', message: 'attempt 2: exit code 1' },
    ],
  }).build();
  assert.match(runsTable([{ run, live: true }], at(30)), /^NAME\s+PHASE\s+PROGRESS\s+AGE\s+REASON\ndemo\s+Running\s+1\/2\s+30s\s+JobsRunning$/);
  assert.match(runsTable([{ run, live: false }], at(30)), /Running \(executor gone\)/);
  const detail = runDetail({ run, live: true }, at(30));
  assert.match(detail, /^a\s+Succeeded\s+1\s+0\s+5\/5\s+1\.235\s+12\.0s\s+Completed\s+file:\/\/\/s\/a\/model$/m);
  assert.match(detail, /^b\s+Retrying\s+2\s+1\s+18\.0s\s+Error\s+attempt 2: exit code 1$/m);
  assert.match(detail, /traceparent: 00-abc-def-01/);
});
