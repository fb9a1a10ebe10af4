// `fslm ask "PROMPT"`: runs the prompt through a router's stack and prints the answer, each stage's
// text and per-stage timings (--json: one JSON object for machines).
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { errorMessage } from '../shared/errors.ts';
import { CLIENT_TLS_OPTIONS, CLIENT_TLS_USAGE, clientTlsOf, trustFlagsOf } from '../shared/trust-options.ts';
import type { RunEvent__Output } from '../shared/generated/fslm/v1/RunEvent.ts';
import type { RunResponse__Output } from '../shared/generated/fslm/v1/RunResponse.ts';
import type { StageOutput__Output } from '../shared/generated/fslm/v1/StageOutput.ts';
import { stackServiceClient } from '../router/src/client.ts';
import { DEFAULT_GRPC_ADDRESS } from '../router/src/defaults.ts';

export const ASK_USAGE = `usage: fslm ask "PROMPT" [--router HOST:PORT] [--stack NAME] [--timeout SECONDS] [--no-handoff] [--json]
                ${CLIENT_TLS_USAGE}
  --router defaults to $FSLM_ROUTER or ${DEFAULT_GRPC_ADDRESS}; --tls-ca: call it over TLS (with a client certificate under mTLS)`;

const ms = (value: number | undefined) => `${Math.round(value ?? 0)} ms`;

function stageLine(s: StageOutput__Output): string {
  const t = s.timings;
  const tokens = `${s.usage?.prompt_tokens ?? 0} in / ${s.usage?.completion_tokens ?? 0} out`;
  const handoff = s.index > 0 ? ` · gap ${ms(s.handoff_gap_ms)}${s.streamed_handoff ? ' (streamed)' : ''}` : '';
  return `── ${s.index + 1}. ${s.stage} · ${tokens} · first token ${ms(t?.first_token_ms)} · total ${ms(s.duration_ms)}${handoff}`;
}

export async function runAsk(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let values;
  let positionals;
  let tls;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        router: { type: 'string', default: env.FSLM_ROUTER || DEFAULT_GRPC_ADDRESS },
        stack: { type: 'string', default: '' },
        timeout: { type: 'string' },
        'no-handoff': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        ...CLIENT_TLS_OPTIONS,
      },
    }));
    if (positionals.length === 0 || positionals.join(' ').trim() === '') throw new Error('a prompt is required');
    if (values.timeout !== undefined && !(Number(values.timeout) > 0)) throw new Error('--timeout must be a positive number of seconds');
    tls = clientTlsOf(trustFlagsOf(values));
  } catch (error) {
    console.error(`fslm ask: ${errorMessage(error)}\n${ASK_USAGE}`);
    return 2;
  }
  let client;
  try {
    client = stackServiceClient(values.router!, tls);
  } catch (error) {
    console.error(`fslm ask: ${errorMessage(error)}`);
    return 2;
  }
  const deadline = values.timeout ? new Date(Date.now() + Number(values.timeout) * 1000) : undefined;
  const human = !values.json;
  const call = client.RunStream({ stack: values.stack, input: positionals.join(' '), disable_handoff: values['no-handoff'] }, deadline ? { deadline } : {});
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
