// The `fslm` command line as a user meets it, through the real bin/fslm.js: every command answers
// --help and -h with its usage and exit 0, `fslm --version` / `-V` print package.json's version, and an
// unknown command, an unknown option or a bad value exits 2 with a message naming it, before anything starts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, runFslm } from './support/run-fslm.ts';

const COMMANDS = ['up', 'ask', 'router', 'stage', 'train', 'status', 'distill', 'trainer', 'eval', 'render-prompts', 'bench', 'controller'];
/** Arguments a command needs before it looks at other options (the trainer's argparse reports missing ones first). */
const REQUIRED: Record<string, string[]> = {
  stage: ['--model', 'x'],
  trainer: ['verify', 'x'],
  eval: ['--out', 'o'],
  distill: ['--data', 'd.jsonl', '--stack', 's.yaml', '--out', 'o', '--teacher', 'http://127.0.0.1:9/v1'],
};
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('fslm command line', { timeout: 900_000 }, () => {
  test('fslm --help lists every command and exits 0; fslm alone prints the same usage and exits 2', async () => {
    const help = await runFslm(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const name of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'), `${name} is listed`);
    const bare = await runFslm([]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /Usage: fslm <command>/);
  });

  test('fslm --version and -V print the version in package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const res = await runFslm([flag]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout.trim(), VERSION);
    }
  });

  test('fslm help COMMAND is COMMAND --help', async () => {
    const res = await runFslm(['help', 'up']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Usage: fslm up /);
  });

  test('an unknown command or option of fslm itself exits 2 naming it', async () => {
    const command = await runFslm(['serve']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'serve'/);
    const option = await runFslm(['--verbose', 'up']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--verbose'/);
  });

  for (const name of COMMANDS) {
    test(`fslm ${name} --help and -h print its usage and exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const res = await runFslm([name, flag]);
        assert.equal(res.code, 0, `${flag}: ${res.stderr}`);
        assert.match(res.stdout, /usage/i, `${flag} prints a usage`);
        assert.match(res.stdout, new RegExp(name === 'trainer' || name === 'distill' ? 'fslm-trainer' : `fslm ${name}`), `${flag} names the command`);
      }
    });

    test(`fslm ${name} with an unknown option exits 2 naming it`, async () => {
      const res = await runFslm([name, ...(REQUIRED[name] ?? []), '--no-such-flag']);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /--no-such-flag/);
    });
  }

  test('bad values are refused with exit 2 and a message that names the flag and what it expects', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['up', '--replicas', '0'], /--replicas <N>' argument '0' is invalid\. Expected a positive integer/],
      [['up', '--threads', '1.5'], /--threads <N>' argument '1\.5' is invalid\. Expected a positive integer/],
      [['up', '--grpc', 'localhost'], /--grpc <HOST:PORT>' argument 'localhost' is invalid\. Expected HOST:PORT/],
      [['ask'], /missing required argument 'PROMPT'/],
      [['ask', '   '], /the prompt is empty/],
      [['ask', 'hi', '--timeout', '0'], /--timeout <SECONDS>' argument '0' is invalid\. Expected a positive number/],
      [['stage'], /required option '--model <DIR>' not specified/],
      [['stage', '--model', 'x', '--precision', 'fp16'], /Allowed choices are fp32, int8/],
      [['stage', '--model', 'x', '--max-batch', '-1'], /--max-batch <N>' argument '-1' is invalid\. Expected a positive integer/],
      [['stage', '--model', 'x', '--stack', 'a'], /--stack, --stage, --subject, --replica and the --nats-\* files need --nats/],
      [['stage', '--model', 'x', '--nats', 'nats://127.0.0.1:1', '--stack', 'Bad_Name', '--stage', 'b'], /--stack <NAME>' argument 'Bad_Name' is invalid\. Expected a lowercase DNS label/],
      [['stage', '--model', 'x', '--nats', 'nats://127.0.0.1:1', '--stack', 'a'], /--nats needs --stage NAME/],
      [['router'], /--stack FILE \(or --k8s-namespace NS with --k8s-stack NAME or --k8s-selector LABELS\) is required/],
      [['router', '--stack', 'x.yaml', '--http', '8080'], /--http <HOST:PORT>' argument '8080' is invalid/],
      [['router', '--stack', 'x.yaml', '--max-in-flight', 'many'], /--max-in-flight <N>' argument 'many' is invalid/],
      [['bench', '--models', 'gpt2'], /--models <LIST>' argument 'gpt2' is invalid\. Expected a comma-separated list of tiny, smollm2-135m/],
      [['bench', '--threads', '0'], /--threads <N>' argument '0' is invalid/],
      [['--parent-pid', 'me', 'up'], /--parent-pid <pid>' argument 'me' is invalid/],
    ];
    for (const [args, message] of cases) {
      const res = await runFslm(args);
      assert.equal(res.code, 2, `fslm ${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, `fslm ${args.join(' ')}`);
      assert.match(res.stderr, new RegExp(`^fslm( ${args[0] === '--parent-pid' ? '' : args[0]})?: `), 'the message names the command');
    }
  });
});
