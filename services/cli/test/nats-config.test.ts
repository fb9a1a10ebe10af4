// `fslm nats-config` as a command: it makes the missing seeds (mode 0600), prints a configuration with
// their public keys and the permissions of each identity, never a seed; a second run reuses the seeds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../../test/support/models.ts';

const run = promisify(execFile);
const fslm = (args: string[]) => run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'nats-config', ...args], { cwd: REPO_ROOT, timeout: 60_000 });

describe('fslm nats-config', { timeout: 120_000 }, () => {
  test('prints one NKey user per identity with only its own subjects, makes the seeds once and never prints them', async () => {
    const keys = path.join(mkdtempSync(path.join(os.tmpdir(), 'fslm-nats-config-')), 'keys');
    const args = ['--stack', path.join(REPO_ROOT, 'stacks/default.yaml'), '--keys', keys, '--listen', '127.0.0.1:4222', '--tls-cert', 'n.crt', '--tls-key', 'n.key', '--tls-ca', 'ca.crt', '--tls-verify'];
    const first = await fslm(args);
    const files = readdirSync(keys).sort();
    assert.deepEqual(files, ['router.nk', 'stage.default.final.nk', 'stage.default.intermediate.nk', 'stage.default.keywords.nk', 'stage.default.understand.nk']);
    for (const file of files) assert.equal(statSync(path.join(keys, file)).mode & 0o777, 0o600);
    assert.equal(first.stderr.split('\n').filter((l) => l.includes('made the seed')).length, 5);
    const config = JSON.parse(first.stdout) as { tls: { verify: boolean }; authorization: { users: Array<{ nkey: string; permissions: { publish: { allow: string[] }; subscribe: { allow: string[] } } }> } };
    assert.equal(config.tls.verify, true);
    const users = config.authorization.users;
    assert.equal(users.length, 5);
    assert.ok(users.every((u) => /^U[A-Z2-7]{55}$/.test(u.nkey)));
    const understand = users[1].permissions;
    assert.deepEqual(understand.publish.allow, ['_INBOX.>']);
    assert.ok(understand.subscribe.allow.every((s) => s.startsWith('fslm.default.understand.')));
    assert.deepEqual(users[0].permissions.subscribe.allow, ['_INBOX.>']);
    assert.ok(users[0].permissions.publish.allow.every((s) => s.startsWith('fslm.default.')));
    for (const file of files) assert.ok(!first.stdout.includes(readFileSync(path.join(keys, file), 'utf8').trim()), `${file}'s seed is not printed`);
    const second = await fslm(args);
    assert.equal(second.stdout, first.stdout, 'the same seeds, the same configuration');
    assert.equal(second.stderr.trim(), '');
  });

  test('options that go together are refused alone (exit 2)', async () => {
    await assert.rejects(fslm(['--stack', path.join(REPO_ROOT, 'stacks/default.yaml'), '--keys', os.tmpdir(), '--tls-cert', 'x']), (e: { code?: number; stderr?: string }) =>
      e.code === 2 && /--tls-cert, --tls-key and --tls-ca go together/.test(e.stderr ?? ''));
  });
});
