// Composition root of `fslm model`: fetch, push and inspect model artifacts in the store.
//   fslm model fetch URI DIR [--expect-version SHA256] [--termination-message PATH]   (a stage's init step on a cluster)
//   fslm model push DIR URI                             (publish a trained artifact)
//   fslm model version URI                              (sha256 of the stored fslm.json)
import { writeFile } from 'node:fs/promises';
import { CommanderError, type Command } from 'commander';
import { EXIT_USAGE, fslmCommand, matching } from '../../shared/command-line.ts';
import { ErrorCode, FslmError, errorMessage } from '../../shared/errors.ts';
import { readModelStoreEnvironment, type ModelStoreOptions } from './config.ts';
import { fetchModel, pushModel, readModelVersion } from './transfer.ts';

/** The kubelet keeps at most this many bytes of a termination message. */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;

/**
 * The termination message of a fetch: `{"version":"<sha256 of fslm.json>","uri":"<uri>"}`, the URI left
 * out when the whole would not fit the kubelet's 4 KiB (so the message is always whole JSON).
 */
export function fetchTerminationMessage(version: string, uri: string): string {
  const full = JSON.stringify({ version, uri });
  return Buffer.byteLength(full) <= TERMINATION_MESSAGE_MAX_BYTES ? full : JSON.stringify({ version });
}

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
    .option('--termination-message <PATH>', 'once fetched, write {"version","uri"} (JSON) to PATH: a container\'s terminationMessagePath, which its pod status reports')
    .action(async (uri: string, dir: string, opts: { expectVersion?: string; terminationMessage?: string }) => {
      if (opts.terminationMessage === '') throw new FslmError(ErrorCode.InvalidArgument, '--termination-message needs a file path');
      const message = opts.terminationMessage;
      const writeMessage = async (text: string) => {
        try {
          await writeFile(message!, text);
        } catch (error) {
          throw new Error(`cannot write the termination message to ${message}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
        }
      };
      // Checked (and emptied) before the fetch: a path that cannot be written fails before DIR is filled.
      if (message) await writeMessage('');
      const fetched = await fetchModel(uri, dir, options(), opts.expectVersion);
      if (message) await writeMessage(fetchTerminationMessage(fetched.version, uri));
      print(JSON.stringify({ event: 'fetched', ...fetched }));
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
