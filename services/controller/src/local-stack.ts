// The stack a local run names (spec.stack), checked before anything starts: the file must be a Stack
// definition that `fslm up` and the router accept, and it must have a stage of each name the run trains
// (each stage's trainer renders its prompts from the stage of the same name).
import { errors, errorMessage } from '../../shared/errors.ts';
import { loadStackFile } from '../../router/src/index.ts';
import { localPath } from './local-models.ts';
import type { RunSpec } from './types.ts';

/**
 * Checks spec.stack of a run read from a file in `baseDir`; nothing to check without one.
 * @throws INVALID_ARGUMENT (field `spec.stack`) when the stack is not a local file, is not a valid Stack
 * definition (every problem listed), or lacks a stage the run trains (named, with the stages it has).
 */
export async function checkRunStack(spec: RunSpec, baseDir: string): Promise<void> {
  if (spec.stack === undefined) return;
  const file = localPath(spec.stack, baseDir);
  if (file === undefined) throw errors.invalidArgument(`spec.stack: ${spec.stack} is not a local file (a path or file:// URI)`, 'spec.stack');
  let stack;
  try {
    stack = await loadStackFile(file);
  } catch (e) {
    throw errors.invalidArgument(`spec.stack: ${errorMessage(e)}`, 'spec.stack');
  }
  const names = stack.stages.map((s) => s.name);
  const missing = spec.stages.map((s) => s.name).filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw errors.invalidArgument(`spec.stack: stack ${stack.name} (${file}) has no stage ${missing.map((n) => JSON.stringify(n)).join(', ')}; `
      + `its stages are ${names.join(', ')} (every stage of the run trains the stack's stage of the same name)`, 'spec.stack');
  }
}
