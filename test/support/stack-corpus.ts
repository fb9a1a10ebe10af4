// The shared corpus of stack files (test/fixtures/stacks): which must be accepted, which refused, and
// the problems the router and the trainer must report for each refused one.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './models.ts';

export const CORPUS_DIR = path.join(REPO_ROOT, 'test/fixtures/stacks');

export interface CorpusFile {
  name: string;
  file: string;
  valid: boolean;
  /** `path: message` lines from the file's `# expect:` comments (none for a valid file). */
  expected: string[];
}

/** Every corpus file, and the stack files shipped in stacks/ (all valid). */
export function corpus(): CorpusFile[] {
  const out: CorpusFile[] = [];
  const add = (dir: string, valid: boolean, prefix: string): void => {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      const file = path.join(dir, name);
      const expected = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('# expect: ')).map((l) => l.slice('# expect: '.length));
      out.push({ name: `${prefix}/${name}`, file, valid, expected });
    }
  };
  add(path.join(CORPUS_DIR, 'valid'), true, 'valid');
  add(path.join(CORPUS_DIR, 'invalid'), false, 'invalid');
  add(path.join(REPO_ROOT, 'stacks'), true, 'stacks');
  return out;
}
