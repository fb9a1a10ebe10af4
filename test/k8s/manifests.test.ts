// Every manifest under k8s/, both kustomize overlays, the stack files of stacks/ and the shared corpus
// of stack files (test/fixtures/stacks), checked by the real API server with
// `kubectl apply --dry-run=server`: the manifests and valid stacks are accepted, each invalid stack
// refused, naming the rule it breaks, exactly as the router and the trainer refuse it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/models.ts';
import { corpus } from '../support/stack-corpus.ts';
import { RULE_MIRRORS } from '../../services/router/src/stack-rules.ts';
import { SKIP_K8S, TestEnv, waitForCrds } from '../controller/support/testenv.ts';

let env: TestEnv;

const yamlFiles = (dir: string): string[] => readdirSync(path.join(REPO_ROOT, dir)).flatMap((f) => {
  const rel = path.join(dir, f);
  if (statSync(path.join(REPO_ROOT, rel)).isDirectory()) return yamlFiles(rel);
  return f.endsWith('.yaml') && f !== 'kustomization.yaml' ? [rel] : [];
});

const dryRun = (args: string[]) => env.kubectl(['apply', '--dry-run=server', ...args], { allowFail: true });

describe('manifests and stack files on the API server', { timeout: 600_000, skip: SKIP_K8S }, () => {
  before(async () => {
    env = await TestEnv.start('manifests');
    // A dry run creates nothing, so what the others need exists for real first: the CRDs and the namespace.
    await env.kubectl(['apply', '-f', 'k8s/base/crd/', '-f', 'k8s/base/controller/namespace.yaml']);
    await waitForCrds(env);
  });
  after(async () => env?.stop());

  test('both overlays build and pass the server\'s dry run', async () => {
    for (const overlay of ['k8s/overlays/gpu', 'k8s/overlays/cpu']) {
      const r = await dryRun(['-k', overlay]);
      assert.equal(r.code, 0, `${overlay}: ${r.stderr}`);
      assert.match(r.stdout, /statefulset\.apps\/nats (created|configured) \(server dry run\)/);
      assert.match(r.stdout, /networkpolicy\.networking\.k8s\.io\/nats (created|configured) \(server dry run\)/);
      assert.match(r.stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/stacks\.fslm\.dev .*\(server dry run\)/);
    }
  });

  test('every manifest under k8s/ passes the server\'s dry run', async () => {
    const files = yamlFiles('k8s');
    assert.ok(files.length >= 9, files.join(', '));
    for (const file of files) {
      const r = await dryRun(['-f', file]);
      assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    }
  });

  for (const c of corpus()) {
    test(`${c.name}: ${c.valid ? 'accepted' : 'refused'} by the API server`, async () => {
      const r = await dryRun(['-n', 'default', '-f', c.file]);
      if (c.valid) {
        assert.equal(r.code, 0, r.stderr);
        return;
      }
      assert.notEqual(r.code, 0, `expected a refusal, got: ${r.stdout}`);
      // The server evaluates CEL rules only on an object that passes the schema.
      const celChecked = !r.stderr.includes('some validation rules were not checked');
      for (const line of c.expected) {
        const [field, ...rest] = line.split(': ');
        const message = rest.join(': ');
        // A CEL rule's message is the server's own; a schema problem names its field (map keys and the
        // API group are written differently by the server, so those are checked by the refusal alone).
        if (RULE_MIRRORS[message]) assert.ok(!celChecked || r.stderr.includes(message), `${c.name}: no "${message}" in: ${r.stderr}`);
        else if (!field.includes('"') && field !== 'apiVersion') assert.ok(r.stderr.includes(field), `${c.name}: no ${field} in: ${r.stderr}`);
      }
    });
  }
});
