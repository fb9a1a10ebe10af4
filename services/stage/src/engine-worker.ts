// The engine's own thread: onnxruntime-node runs inference synchronously, so a decode step or a prefill
// chunk would otherwise hold up every gRPC and NATS message of the process while it runs.
import { parentPort, workerData } from 'node:worker_threads';
import { errors, toFslmError } from '../../shared/errors.ts';
import { OnnxEngine } from './engine-onnx.ts';
import type { EngineFault, FromWorker, ToWorker, WireError, WorkerData } from './engine-thread-protocol.ts';
import type { GenerateResult, IncrementalPrompt, TextDelta } from './types.ts';

const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

function wireError(error: unknown): WireError {
  const e = toFslmError(error);
  return { code: e.code, message: e.message, field: e.field };
}

/** Test-only fault injection: the thread exits, or throws an error nothing catches. */
function commit(fault: EngineFault): void {
  if (fault === 'exit') process.exit(70);
  setImmediate(() => {
    throw new Error('fault injection: the engine thread throws');
  });
}

function serve(engine: OnnxEngine): void {
  const aborts = new Map<number, AbortController>();
  const prompts = new Map<number, IncrementalPrompt>();
  const track = <T>(id: number, run: (signal: AbortSignal) => Promise<T>, done: (result: T) => FromWorker) => {
    const abort = new AbortController();
    aborts.set(id, abort);
    run(abort.signal)
      .then((result) => post(done(result)))
      .catch((error) => post({ type: 'error', id, error: wireError(error) }))
      .finally(() => aborts.delete(id));
  };
  const callbacks = (id: number, signal: AbortSignal, stream: boolean) =>
    ({ signal, onDelta: stream ? (delta: TextDelta) => post({ type: 'delta', id, delta }) : undefined });
  const generated = (id: number) => (result: GenerateResult): FromWorker => ({ type: 'result', id, result });

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'generate':
        track(message.id, (signal) => engine.generate(message.input, callbacks(message.id, signal, message.stream)), generated(message.id));
        break;
      case 'score':
        track(message.id, (signal) => engine.score(message.input, { signal }), (result) => ({ type: 'scored', id: message.id, result }));
        break;
      case 'abort':
        aborts.get(message.id)?.abort(message.deadline ? errors.deadlineExceeded() : errors.cancelled());
        break;
      case 'begin':
        prompts.set(message.id, engine.beginPrompt(message.requestId, {
          addSpecialTokens: message.addSpecialTokens,
          maxNewTokens: message.maxNewTokens,
          onRefused: (error) => post({ type: 'refused', id: message.id, error: wireError(error) }),
        }));
        break;
      case 'append':
        prompts.get(message.id)?.append(message.pieces);
        break;
      case 'start': {
        const prompt = prompts.get(message.id);
        prompts.delete(message.id);
        if (!prompt) post({ type: 'error', id: message.id, error: wireError(errors.failedPrecondition('unknown prompt')) });
        else track(message.id, (signal) => prompt.start(message.rest, message.sampling, callbacks(message.id, signal, message.stream)), generated(message.id));
        break;
      }
      case 'discard':
        prompts.get(message.id)?.discard();
        prompts.delete(message.id);
        break;
      case 'stats':
        post({ type: 'stats', id: message.id, stats: engine.currentStats() });
        break;
      case 'fault':
        commit(message.fault);
        break;
      case 'close':
        void engine.close().then(() => {
          post({ type: 'closed' });
          port.close();
        });
        break;
    }
  });
}

const { options } = workerData as WorkerData;
OnnxEngine.load(options).then(
  (engine) => {
    post({ type: 'ready', limits: engine.limits, artifact: engine.artifact });
    serve(engine);
  },
  (error) => post({ type: 'load-failed', error: wireError(error) }),
);
