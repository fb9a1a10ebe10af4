// `fslm render-prompts`: what a stage of a stack is asked for each row of template values, rendered by
// the router's own code (stage-prompt.ts: the stage's system prompt, then its template over {input} and
// {stages.<name>}) and, with --model, tokenized by the stage's own codec exactly as the stage will
// tokenize it. The trainer's tests hold its training prompts to this, token for token.
//   fslm render-prompts --stack FILE --stage NAME [--model ARTIFACT_DIR] < rows.jsonl > rendered.jsonl
// Input rows: {"input": "...", "stages": {"<earlier stage>": "text", ...}}. Output rows, in order:
// {"messages": [...], "text": the rendered prompt (with --model), "prompt_ids": [...] (with --model)}.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadStackFile, mergeParams, stageRequest } from '../router/src/index.ts';
import { loadArtifact, TextCodec } from '../stage/src/index.ts';
import { errorMessage } from '../shared/errors.ts';

const USAGE = 'usage: fslm render-prompts --stack FILE --stage NAME [--model ARTIFACT_DIR] < rows.jsonl';

export async function runRenderPrompts(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { stack: { type: 'string' }, stage: { type: 'string' }, model: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    console.error(`fslm render-prompts: ${errorMessage(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.stack || !values.stage) {
    console.error(`fslm render-prompts: --stack and --stage are required\n${USAGE}`);
    return 2;
  }
  try {
    const stack = await loadStackFile(values.stack);
    const stage = stack.stages.find((s) => s.name === values.stage);
    if (!stage) throw new Error(`stack ${stack.name} has no stage ${JSON.stringify(values.stage)} (stages: ${stack.stages.map((s) => s.name).join(', ')})`);
    const codec = values.model ? new TextCodec(await loadArtifact(values.model)) : null;
    let line = 0;
    for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      line++;
      if (!text.trim()) continue;
      let row: { input?: unknown; stages?: unknown };
      try {
        row = JSON.parse(text);
      } catch (error) {
        throw new Error(`line ${line} is not JSON: ${errorMessage(error)}`);
      }
      if (typeof row.input !== 'string') throw new Error(`line ${line}: "input" must be a string`);
      const stages = (row.stages ?? {}) as Record<string, string>;
      let messages;
      try {
        messages = stageRequest(stage, { input: row.input, stages }, mergeParams(stage.params, undefined)).messages ?? [];
      } catch (error) {
        throw new Error(`line ${line}: ${errorMessage(error)}`);
      }
      const out: Record<string, unknown> = { messages };
      if (codec) {
        const prompt = { kind: 'chat' as const, messages: messages.map((m) => ({ role: m.role ?? '', content: m.content ?? '' })) };
        out.text = codec.render(prompt);
        out.prompt_ids = codec.encodePrompt(prompt);
      }
      process.stdout.write(`${JSON.stringify(out)}\n`);
    }
    return 0;
  } catch (error) {
    console.error(`fslm render-prompts: ${errorMessage(error)}`);
    return 2;
  }
}
