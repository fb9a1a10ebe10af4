// `fslm ask "PROMPT"`: runs the prompt through a router's stack and prints the answer, each stage's
// text with the model and adapter version that wrote it and per-stage timings (--json: one JSON object
// for machines).
import * as grpc from '@grpc/grpc-js';
import { Option } from 'commander';
import { fslmCommand, parseCommandLine, positiveNumber } from '../shared/command-line.ts';
import { errorMessage } from '../shared/errors.ts';
import { addClientTlsOptions, clientTlsOf, type ClientTlsFlags } from '../shared/trust-options.ts';
import type { RunEvent__Output } from '../shared/generated/fslm/v1/RunEvent.ts';
import type { RunResponse__Output } from '../shared/generated/fslm/v1/RunResponse.ts';
import type { StageOutput__Output } from '../shared/generated/fslm/v1/StageOutput.ts';
import { DEFAULT_GRPC_ADDRESS, stackServiceClient } from '../router/src/index.ts';

interface AskOptions extends ClientTlsFlags {
  router: string;
  stack: string;
  timeout?: number;
  handoff: boolean;
  json?: boolean;
}

function askCommand(env: Record<string, string | undefined>) {
  return addClientTlsOptions(fslmCommand('fslm ask', "Run a prompt through a router's stack; print each stage's text with its timings, then the answer.")
    .argument('<PROMPT...>', 'the prompt (several words are joined with spaces)')
    .addOption(new Option('--router <HOST:PORT>', "the router's gRPC address, as gRPC takes it").default(env.FSLM_ROUTER || DEFAULT_GRPC_ADDRESS, `$FSLM_ROUTER or ${DEFAULT_GRPC_ADDRESS}`))
    .addOption(new Option('--stack <NAME>', 'the stack to run').default('', "the router's only stack"))
    .option('--timeout <SECONDS>', 'the deadline of the whole request', positiveNumber)
    .option('--no-handoff', 'run each stage only after the previous one finished')
    .option('--json', 'print the whole response as one JSON object'));
}

const ms = (value: number | undefined) => `${Math.round(value ?? 0)} ms`;

/** Digits of a sha256 version shown to people (as git shortens commit ids). */
const SHORT_VERSION = 12;

/**
 * The heading of one stage's text: its model (artifact name and the first digits of its version),
 * the LoRA adapter merged into it (the first digits of its version, or "none" for a base model),
 * tokens and timings.
 */
export function stageLine(s: StageOutput__Output): string {
  const t = s.timings;
  const tokens = `${s.usage?.prompt_tokens ?? 0} in / ${s.usage?.completion_tokens ?? 0} out`;
  const handoff = s.index > 0 ? ` · gap ${ms(s.handoff_gap_ms)}${s.streamed_handoff ? ' (streamed)' : ''}` : '';
  const model = `${s.model || '?'}@${s.model_version.slice(0, SHORT_VERSION) || '?'}`;
  const adapter = `adapter ${s.adapter_version ? s.adapter_version.slice(0, SHORT_VERSION) : 'none'}`;
  return `── ${s.index + 1}. ${s.stage} · ${model} · ${adapter} · ${tokens} · first token ${ms(t?.first_token_ms)} · total ${ms(s.duration_ms)}${handoff}`;
}

export async function runAsk(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const line = parseCommandLine<AskOptions>(askCommand(env), argv, (opts, args) => {
    if (args.join(' ').trim() === '') throw new Error('the prompt is empty');
    clientTlsOf(opts);
  });
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  const prompt = line.args.join(' ');
  let client;
  try {
    client = stackServiceClient(values.router, clientTlsOf(values));
  } catch (error) {
    // TLS files that cannot be read or used.
    console.error(`fslm ask: ${errorMessage(error)}`);
    return 2;
  }
  const deadline = values.timeout !== undefined ? new Date(Date.now() + values.timeout * 1000) : undefined;
  const human = !values.json;
  const call = client.RunStream({ stack: values.stack, input: prompt, disable_handoff: !values.handoff }, deadline ? { deadline } : {});
  process.once('SIGINT', () => call.cancel());
  let final: RunResponse__Output | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      call.on('data', (event: RunEvent__Output) => {
        if (event.final) final = event.final;
        else if (human && event.stage_finished?.output) {
          const s = event.stage_finished.output;
          console.log(`${stageLine(s)}\n${s.text.trim()}\n`);
        }
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
  } catch (error) {
    const e = error as grpc.ServiceError;
    const code = typeof e.code === 'number' ? grpc.status[e.code] : 'ERROR';
    console.error(`fslm ask: ${code}: ${e.details || errorMessage(error)}${e.code === grpc.status.UNAVAILABLE ? ` (is a router listening on ${values.router}? start one with \`fslm up\`)` : ''}`);
    client.close();
    return 1;
  }
  client.close();
  const response = final as RunResponse__Output | null;
  if (!response) {
    console.error('fslm ask: the router ended the stream without a final response');
    return 1;
  }
  if (values.json) console.log(JSON.stringify(response, null, 2));
  else console.log(`══ answer (${response.stack} · ${response.stages.length} stages · ${ms(response.total_ms)} · trace ${response.trace_id})\n${response.text.trim()}`);
  return 0;
}
