// Composition root of a stage: `fslm stage --model DIR --grpc HOST:PORT`.
import { parseArgs } from 'node:util';
import { errorMessage } from '../../shared/errors.ts';
import { OnnxEngine } from './engine-onnx.ts';
import { startStageServer } from './grpc-server.ts';

export const STAGE_USAGE = `usage: fslm stage --model DIR [--grpc HOST:PORT] [--precision fp32|int8] [--threads N]
                  [--max-batch N] [--max-queue N] [--max-prompt-tokens N]`;

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export async function runStage(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        grpc: { type: 'string', default: '127.0.0.1:50051' },
        precision: { type: 'string', default: 'fp32' },
        threads: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue': { type: 'string' },
        'max-prompt-tokens': { type: 'string' },
      },
      strict: true,
    }));
    if (!values.model) throw new Error('--model is required');
    if (values.precision !== 'fp32' && values.precision !== 'int8') throw new Error('--precision must be fp32 or int8');
  } catch (error) {
    console.error(`fslm stage: ${errorMessage(error)}\n${STAGE_USAGE}`);
    return 2;
  }
  let engine: OnnxEngine;
  try {
    engine = await OnnxEngine.load({
      modelDir: values.model!,
      precision: values.precision as 'fp32' | 'int8',
      intraOpThreads: positiveInt(values.threads, '--threads'),
      maxBatchSize: positiveInt(values['max-batch'], '--max-batch'),
      maxQueue: positiveInt(values['max-queue'], '--max-queue'),
      maxPromptTokens: positiveInt(values['max-prompt-tokens'], '--max-prompt-tokens'),
    });
  } catch (error) {
    console.error(`fslm stage: cannot load ${values.model}: ${errorMessage(error)}`);
    return 2;
  }
  const stage = await startStageServer(engine, engine.artifact, values.grpc!);
  const host = values.grpc!.slice(0, values.grpc!.lastIndexOf(':'));
  console.log(JSON.stringify({ event: 'listening', grpc: `${host}:${stage.port}`, model: engine.artifact.manifest.name, version: engine.artifact.version }));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stage.shutdown();
  await engine.close();
  return 0;
}
