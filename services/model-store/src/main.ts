// Composition root of `fslm model`: fetch, push and inspect model artifacts in the store.
//   fslm model fetch URI DIR [--expect-version SHA256]   (a stage's init step on a cluster)
//   fslm model push DIR URI                             (publish a trained artifact)
//   fslm model version URI                              (sha256 of the stored fslm.json)
import { CommanderError, type Command } from 'commander';
import { EXIT_USAGE, fslmCommand, matching } from '../../shared/command-line.ts';
import { ErrorCode, FslmError, errorMessage } from '../../shared/errors.ts';
import { readModelStoreEnvironment, type ModelStoreOptions } from './config.ts';
import { fetchModel, pushModel, readModelVersion } from './transfer.ts';

/** Exit status for an error: 2 for bad input on the command line (a URI that cannot be parsed), 1 for everything else. */
function exitCode(error: unknown): number {
  return error instanceof FslmError && error.code === ErrorCode.InvalidArgument ? EXIT_USAGE : 1;
}

function program(options: () => ModelStoreOptions, print: (line: string) => void): Command {
  const root = fslmCommand('fslm model',
    'fetch, push and inspect stage model artifacts: file:///dir on a mounted volume, s3://bucket/prefix on any S3-compatible store');
  root.command('fetch')
    .description('download the artifact at URI into DIR (new or empty), checking every sha256 in its fslm.json; nothing is left in DIR on failure')
    .argument('<uri>', 'file:///absolute/dir or s3://bucket/prefix')
    .argument('<dir>', 'local directory to create (or an empty one, e.g. a volume mount)')
    .option('--expect-version <sha256>', 'refuse the artifact unless its fslm.json has this sha256', matching(/^[0-9a-f]{64}$/, 'a lowercase hex sha256'))
    .action(async (uri: string, dir: string, opts: { expectVersion?: string }) => {
      print(JSON.stringify({ event: 'fetched', ...(await fetchModel(uri, dir, options(), opts.expectVersion)) }));
    });
  root.command('push')
    .description('upload the artifact in DIR to URI, checking every sha256 in its fslm.json; fslm.json goes last; a stored version is never overwritten')
    .argument('<dir>', 'local artifact directory (holds fslm.json)')
    .argument('<uri>', 'file:///absolute/dir or s3://bucket/prefix')
    .action(async (dir: string, uri: string) => {
      print(JSON.stringify({ event: 'pushed', ...(await pushModel(dir, uri, options())) }));
    });
  root.command('version')
    .description('print the version (sha256 of fslm.json) of the artifact stored at URI')
    .argument('<uri>', 'file:///absolute/dir or s3://bucket/prefix')
    .action(async (uri: string) => {
      print(JSON.stringify({ uri, version: await readModelVersion(uri, options()) }));
    });
  return root;
}

/** Runs `fslm model ARGV…`; prints one JSON line on success, a one-line error on stderr otherwise. */
export async function runModel(argv: string[]): Promise<number> {
  const cmd = program(() => readModelStoreEnvironment(), (line) => console.log(line));
  try {
    await cmd.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    const sub = argv[0] ? ` ${argv[0]}` : '';
    console.error(`fslm model${sub}: ${errorMessage(error)}`);
    return exitCode(error);
  }
}
