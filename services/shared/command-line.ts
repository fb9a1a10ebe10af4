// The command lines of fslm's commands, on commander: `-h`/`--help` prints the usage on stdout and
// exits 0; a usage error (unknown option, bad value, missing argument, flags that need each other)
// prints `fslm CMD: message` and a pointer to --help on stderr and exits 2. Also the value checks the
// commands share, each refusing a bad value with a message that names what was expected.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { splitHostPort } from './address.ts';

/** Exit code of a command line that was not understood (as getopt-style tools and Python's argparse use). */
export const EXIT_USAGE = 2;

/**
 * A commander Command named `name` (the whole command as typed, e.g. `fslm up`) that never exits the
 * process itself: parseCommandLine() turns its outcome into an exit code.
 */
export function fslmCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .helpOption('-h, --help', 'show this help and exit')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${name}: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError(`(see ${name} --help)`);
}

/** What a command line asked for: the options and operands, or the exit code when it only asked for help or was refused. */
export type CommandLine<O> = { ok: true; opts: O; args: string[] } | { ok: false; exitCode: number };

/**
 * Parses `argv` (without the command's own words) with `command`. `check` sees the parsed options and
 * may throw an Error whose message says what is wrong with them together (e.g. `--stack needs --nats`);
 * that is reported like any other usage error.
 */
export function parseCommandLine<O>(command: Command, argv: readonly string[], check?: (opts: O, args: string[]) => void): CommandLine<O> {
  try {
    command.parse([...argv], { from: 'user' });
    const opts = command.opts<O & Record<string, unknown>>() as O;
    if (check) {
      try {
        check(opts, command.args);
      } catch (error) {
        if (error instanceof CommanderError) throw error;
        command.error((error as Error).message, { exitCode: EXIT_USAGE });
      }
    }
    return { ok: true, opts, args: command.args };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { ok: false, exitCode: error.exitCode === 0 ? 0 : EXIT_USAGE };
  }
}

/** A whole number ≥ 1, e.g. `--threads 4`. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

/** A number > 0, e.g. `--timeout 2.5` (seconds). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a positive number.');
  return n;
}

/** HOST:PORT (port 0 picks a free one; IPv6 hosts in brackets). */
export function hostPort(value: string): string {
  try {
    splitHostPort(value);
  } catch {
    throw new InvalidArgumentError('Expected HOST:PORT, e.g. 127.0.0.1:50051.');
  }
  return value;
}

/** A value that must match `pattern`, described as `what` in the error (e.g. "a lowercase DNS label"). */
export function matching(pattern: RegExp, what: string): (value: string) => string {
  return (value) => {
    if (!pattern.test(value)) throw new InvalidArgumentError(`Expected ${what}.`);
    return value;
  };
}

/** Keeps the text of a value after `check` accepted it (for callers that convert it later). */
export function checkedText<T>(check: (value: string) => T): (value: string) => string {
  return (value) => {
    check(value);
    return value;
  };
}
