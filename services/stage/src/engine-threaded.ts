// An InferenceEngine whose OnnxEngine runs on a worker thread, so the process keeps answering
// gRPC, NATS and health checks while a prefill or decode step is running.
import { Worker } from 'node:worker_threads';
import { FslmError, errors } from '../../shared/errors.ts';
import type { Artifact } from './artifact.ts';
import type { OnnxEngineOptions } from './engine-options.ts';
import type { FromWorker, ToWorker, WireError, WorkerData } from './engine-thread-protocol.ts';
import { TextCodec } from './text-codec.ts';
import type {
  EngineLimits, EngineStats, GenerateCallbacks, GenerateInput, GenerateResult, InferenceEngine,
  IncrementalPrompt, PromptInput, SamplingOptions,
} from './types.ts';

interface Pending {
  callbacks: GenerateCallbacks;
  resolve(result: GenerateResult): void;
  reject(error: unknown): void;
  detach(): void;
}

function fromWire(error: WireError): FslmError {
  return new FslmError(error.code, error.message, { field: error.field });
}

export class ThreadedEngine implements InferenceEngine {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastStats: EngineStats = { active: 0, queued: 0, decodeSteps: 0, tokensGenerated: 0 };
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly limits: EngineLimits,
    readonly artifact: Artifact,
    /** The engine's tokenizer and chat template, loaded on this thread too (prompt rendering, token counts). */
    readonly codec: TextCodec,
  ) {
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (error) => this.failAll(errors.internal(`engine thread failed: ${error.message}`, error)));
    worker.on('exit', () => this.failAll(errors.unavailable('engine thread exited')));
  }

  static async load(options: OnnxEngineOptions): Promise<ThreadedEngine> {
    const worker = new Worker(new URL('./engine-worker-entry.mjs', import.meta.url), { workerData: { options } satisfies WorkerData });
    let onMessage!: (message: FromWorker) => void;
    let onError!: (error: Error) => void;
    let onExit!: (code: number) => void;
    const ready = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
      onMessage = (message) => {
        if (message.type === 'ready') resolve(message);
        else if (message.type === 'load-failed') reject(fromWire(message.error));
      };
      onError = reject;
      onExit = (code) => reject(errors.internal(`engine thread exited with ${code} while loading`));
      worker.on('message', onMessage).once('error', onError).once('exit', onExit);
    }).finally(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    return new ThreadedEngine(worker, ready.limits, ready.artifact, new TextCodec(ready.artifact));
  }

  get hasChatTemplate(): boolean {
    return this.codec.hasChatTemplate;
  }

  renderPrompt(prompt: PromptInput): string {
    return this.codec.render(prompt);
  }

  generate(input: GenerateInput, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    const id = this.nextId++;
    const done = this.track(id, callbacks);
    this.send({ type: 'generate', id, input, stream: callbacks.onDelta !== undefined });
    return done;
  }

  beginPrompt(requestId: string, options: { addSpecialTokens?: boolean } = {}): IncrementalPrompt {
    const id = this.nextId++;
    this.send({ type: 'begin', id, requestId, addSpecialTokens: options.addSpecialTokens ?? true });
    let state: 'open' | 'started' | 'discarded' = 'open';
    return {
      append: (text: string) => {
        if (state === 'open' && text.length > 0) this.send({ type: 'append', id, text });
      },
      start: (rest: string, sampling: SamplingOptions, callbacks: GenerateCallbacks = {}) => {
        if (state !== 'open') return Promise.reject(new Error(`prompt ${requestId} was already ${state}`));
        state = 'started';
        const done = this.track(id, callbacks);
        this.send({ type: 'start', id, rest, sampling, stream: callbacks.onDelta !== undefined });
        return done;
      },
      discard: () => {
        if (state !== 'open') return;
        state = 'discarded';
        this.send({ type: 'discard', id });
      },
    };
  }

  /** Counters as of the last finished request; active and queued from the requests in flight (the engine admits up to maxBatchSize). */
  stats(): EngineStats {
    const inFlight = this.pending.size;
    return { ...this.lastStats, active: Math.min(inFlight, this.limits.maxBatchSize), queued: Math.max(0, inFlight - this.limits.maxBatchSize) };
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.send({ type: 'close' });
    });
    return this.closed;
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private track(id: number, callbacks: GenerateCallbacks): Promise<GenerateResult> {
    if (callbacks.onLogits) return Promise.reject(errors.invalidArgument('onLogits is not available across threads'));
    if (this.closed) return Promise.reject(errors.unavailable('the engine is shutting down'));
    return new Promise<GenerateResult>((resolve, reject) => {
      const signal = callbacks.signal;
      const onAbort = () => this.send({ type: 'abort', id, deadline: signal?.reason instanceof FslmError && signal.reason.code === 'DEADLINE_EXCEEDED' });
      if (signal?.aborted) queueMicrotask(onAbort);
      else signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { callbacks, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) });
    });
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'closed' || message.type === 'ready' || message.type === 'load-failed') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'delta') {
      pending.callbacks.onDelta?.(message.delta);
      return;
    }
    this.pending.delete(message.id);
    pending.detach();
    if (message.type === 'result') {
      this.lastStats = message.stats;
      pending.resolve(message.result);
    } else pending.reject(fromWire(message.error));
  }

  private failAll(error: FslmError): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.detach();
      pending.reject(error);
    }
  }
}
