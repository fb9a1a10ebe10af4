// Serves an artifact with a real `fslm stage` process and asks it over gRPC: the trainer tests' view
// of "the exported model loads in the TypeScript engine and generates".
//   node --import tsx services/trainer/tests/support/stage_generate.ts ARTIFACT_DIR REQUESTS_JSON
// REQUESTS_JSON: [{"messages": [{"role", "content"}...], "max_new_tokens": N}, ...] (greedy).
// Prints one JSON object: {"describe": {...}, "results": [{"text", "finish_reason", "completion_tokens"}]}.
// Every call has a deadline and the stage is stopped however this ends (its start is bounded by startFslm).
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { GenerateResponse__Output } from '../../../shared/generated/fslm/v1/GenerateResponse.ts';
import type { ProtoGrpcType } from '../../../shared/generated/stage.ts';
import { loadGrpcObject } from '../../../shared/proto.ts';
import { startFslm } from '../../../../test/support/processes.ts';

interface Ask {
  messages: Array<{ role: string; content: string }>;
  max_new_tokens: number;
}

const [modelDir, requestsFile] = process.argv.slice(2);
const asks = JSON.parse(readFileSync(requestsFile, 'utf8')) as Ask[];
const stage = await startFslm(['stage', '--model', modelDir, '--grpc', '127.0.0.1:0', '--threads', '1']);
const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
const client = new proto.fslm.v1.StageService(stage.ready.grpc as string, grpc.credentials.createInsecure());
try {
  const describe = await new Promise<any>((resolve, reject) => client.Describe({}, { deadline: Date.now() + 30_000 }, (e, r) => (e ? reject(e) : resolve(r))));
  const results = [];
  for (const ask of asks) {
    const last = await new Promise<GenerateResponse__Output>((resolve, reject) => {
      let final: GenerateResponse__Output | undefined;
      const call = client.Generate({ messages: ask.messages, params: { max_new_tokens: ask.max_new_tokens, temperature: 0 } }, { deadline: Date.now() + 120_000 });
      call.on('data', (r: GenerateResponse__Output) => (final = r));
      call.on('error', reject);
      call.on('end', () => (final?.result ? resolve(final) : reject(new Error('no result'))));
    });
    const r = last.result!;
    results.push({ text: r.text, finish_reason: r.finish_reason, completion_tokens: r.usage?.completion_tokens });
  }
  const m = describe.manifest;
  console.log(JSON.stringify({ describe: { name: m.name, stage: m.stage, trace_id: m.trace_id, version: m.version, adapter_version: m.adapter_version, metrics: m.metrics }, results }));
} finally {
  client.close();
  await stage.stop();
}
