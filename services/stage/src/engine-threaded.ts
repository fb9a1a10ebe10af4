// An InferenceEngine whose OnnxEngine runs on a worker thread, so the process keeps answering
// gRPC, NATS and health checks while a prefill or decode step is running. If the thread exits or
// throws, every call in flight and every later call settles at once with UNAVAILABLE, and the
// failure listeners are told (the stage then stops serving and exits).
import { Worker } from 'node:worker_threads';
import { FslmError, errors } from '../../shared/errors.ts';
import type { Artifact } from './artifact.ts';
import type { OnnxEngineOptions } from './engine-options.ts';
import type { EngineFault, FromWorker, ToWorker, WireError, WorkerData } from './engine-thread-protocol.ts';
import { TextCodec } from './text-codec.ts';
import type {
  BeginPromptOptions, EngineLimits, EngineStats, GenerateCallbacks, GenerateInput, GenerateResult, InferenceEngine,
  IncrementalPrompt, PromptInput, PromptPiece, SamplingOptions, ScoreInput, ScoreResult,
} from './types.ts';

interface Pending {
  callbacks: GenerateCallbacks;
  /** A GenerateResult, or a ScoreResult for a score call. */
  resolve(result: GenerateResult | ScoreResult): void;
  reject(error: unknown): void;
  detach(): void;
}

interface OpenPrompt {
  refused(error: FslmError): void;
}

function fromWire(error: WireError): FslmError {
  return new FslmError(error.code, error.message, { field: error.field });
}

/** How long close() waits for the engine thread to finish before it terminates the thread. */
export const ENGINE_CLOSE_TIMEOUT_MS = 10_000;

export class ThreadedEngine implements InferenceEngine {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly prompts = new Map<number, OpenPrompt>();
  private readonly statsWaiters = new Map<number, { resolve(stats: EngineStats): void; reject(error: unknown): void }>();
  private readonly failureListeners = new Set<(error: FslmError) => void>();
  private failure: FslmError | null = null;
  private closing = false;
  private closed: Promise<void> | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    readonly limits: EngineLimits,
    readonly artifact: Artifact,
    /** The engine's tokenizer and chat template, loaded on this thread too (prompt rendering, token counts). */
    readonly codec: TextCodec,
  ) {
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (error) => this.fail(errors.unavailable(`the engine thread failed: ${error.message}`, error)));
    this.exited = new Promise<void>((resolve) => worker.once('exit', (code) => {
      this.fail(this.closing ? errors.unavailable('the engine is shut down') : errors.unavailable(`the engine thread exited (code ${code})`));
      resolve();
    }));
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
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    }).finally(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    return new ThreadedEngine(worker, ready.limits, ready.artifact, new TextCodec(ready.artifact));
  }

  get hasChatTemplate(): boolean {
    return this.codec.hasChatTemplate;
  }

  /** Why the engine stopped working, or null while it works. */
  get failed(): FslmError | null {
    return this.failure;
  }

  /** Calls `listener` once if the engine thread exits or throws (not when close() stops it). */
  onFailure(listener: (error: FslmError) => void): void {
    this.failureListeners.add(listener);
  }

  renderPrompt(prompt: PromptInput): string {
    return this.codec.render(prompt);
  }

  renderPieces(prompt: PromptInput): PromptPiece[] {
    return this.codec.renderPieces(prompt);
  }

  generate(input: GenerateInput, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    const id = this.nextId++;
    const done = this.track(id, callbacks);
    this.send({ type: 'generate', id, input, stream: callbacks.onDelta !== undefined });
    return done;
  }

  score(input: ScoreInput, options: { signal?: AbortSignal } = {}): Promise<ScoreResult> {
    const id = this.nextId++;
    const done = this.track<ScoreResult>(id, { signal: options.signal });
    this.send({ type: 'score', id, input });
    return done;
  }

  beginPrompt(requestId: string, options: BeginPromptOptions = {}): IncrementalPrompt {
    const id = this.nextId++;
    let state: 'open' | 'started' | 'discarded' | 'refused' = 'open';
    let refusal: FslmError | null = null;
    this.prompts.set(id, {
      refused: (error) => {
        if (state !== 'open') return;
        state = 'refused';
        refusal = error;
        this.prompts.delete(id);
        options.onRefused?.(error);
      },
    });
    if (this.failure) {
      const failure = this.failure;
      queueMicrotask(() => this.prompts.get(id)?.refused(failure));
    } else {
      this.send({ type: 'begin', id, requestId, addSpecialTokens: options.addSpecialTokens ?? true, maxNewTokens: options.maxNewTokens ?? 1 });
    }
    return {
      append: (more: string | readonly PromptPiece[]) => {
        const pieces = typeof more === 'string' ? [{ text: more, markup: false }] : more.filter((p) => p.text.length > 0);
        if (state === 'open' && pieces.length > 0) this.send({ type: 'append', id, pieces });
      },
      start: (rest: PromptPiece[], sampling: SamplingOptions, callbacks: GenerateCallbacks = {}) => {
        if (state === 'refused') return Promise.reject(refusal);
        if (state !== 'open') return Promise.reject(errors.failedPrecondition(`prompt ${requestId} was already ${state}`));
        state = 'started';
        this.prompts.delete(id);
        const done = this.track(id, callbacks);
        this.send({ type: 'start', id, rest, sampling, stream: callbacks.onDelta !== undefined });
        return done;
      },
      discard: () => {
        if (state !== 'open') return;
        state = 'discarded';
        this.prompts.delete(id);
        this.send({ type: 'discard', id });
      },
    };
  }

  /** What the engine thread holds now, read on that thread (rejects once the engine has failed). */
  stats(): Promise<EngineStats> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(errors.unavailable('the engine is shutting down'));
    const id = this.nextId++;
    return new Promise<EngineStats>((resolve, reject) => {
      this.statsWaiters.set(id, { resolve, reject });
      this.send({ type: 'stats', id });
    });
  }

  /**
   * Test-only fault injection: makes the engine thread exit, or throw an error nothing catches, as a
   * crash would. The engine then fails like any dead engine (UNAVAILABLE, failure listeners).
   */
  injectFault(fault: EngineFault): void {
    this.send({ type: 'fault', fault });
  }

  /** Stops the engine thread: gracefully, or by terminating it after ENGINE_CLOSE_TIMEOUT_MS. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      if (this.failure) {
        await this.worker.terminate();
        return;
      }
      this.send({ type: 'close' });
      const timer = setTimeout(() => void this.worker.terminate(), ENGINE_CLOSE_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.closed;
  }

  private send(message: ToWorker): void {
    if (this.failure) return;
    this.worker.postMessage(message);
  }

  private track<T extends GenerateResult | ScoreResult = GenerateResult>(id: number, callbacks: GenerateCallbacks): Promise<T> {
    if (callbacks.onLogits) return Promise.reject(errors.invalidArgument('onLogits is not available across threads'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(errors.unavailable('the engine is shutting down'));
    return new Promise<T>((resolve, reject) => {
      const signal = callbacks.signal;
      const onAbort = () => this.send({ type: 'abort', id, deadline: signal?.reason instanceof FslmError && signal.reason.code === 'DEADLINE_EXCEEDED' });
      if (signal?.aborted) queueMicrotask(onAbort);
      else signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { callbacks, resolve: resolve as Pending['resolve'], reject, detach: () => signal?.removeEventListener('abort', onAbort) });
    });
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'closed': case 'ready': case 'load-failed':
        return;
      case 'stats': {
        const waiter = this.statsWaiters.get(message.id);
        this.statsWaiters.delete(message.id);
        waiter?.resolve(message.stats);
        return;
      }
      case 'refused':
        this.prompts.get(message.id)?.refused(fromWire(message.error));
        return;
      case 'delta':
        this.pending.get(message.id)?.callbacks.onDelta?.(message.delta);
        return;
      case 'result': case 'scored': case 'error': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        pending.detach();
        if (message.type !== 'error') pending.resolve(message.result);
        else pending.reject(fromWire(message.error));
      }
    }
  }

  /** The engine thread is gone: everything waiting on it settles now, and later calls fail at once. */
  private fail(error: FslmError): void {
    if (this.failure) return;
    this.failure = error;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.detach();
      pending.reject(error);
    }
    for (const prompt of [...this.prompts.values()]) prompt.refused(error);
    for (const [id, waiter] of this.statsWaiters) {
      this.statsWaiters.delete(id);
      waiter.reject(error);
    }
    if (!this.closing) for (const listener of this.failureListeners) listener(error);
  }
}
