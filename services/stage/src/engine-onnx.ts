// The ONNX decoder engine: one scheduling loop. Each step it prefills one chunk of a hand-off prompt,
// runs one prefill (fresh short prompts together, or one chunk of a long one) and decodes every active
// request together, one token each, each row with its own attention mask and positions. Everything it
// works on was admitted first (batch + queue bound) and checked against the prompt and context limits,
// and a request that ends for any reason leaves before the next step.
import os from 'node:os';
import { errorMessage, errors, type FslmError } from '../../shared/errors.ts';
import { loadArtifact, type Artifact } from './artifact.ts';
import { DecodeBatch } from './decode-batch.ts';
import { DecoderSession } from './decoder-session.ts';
import { checkPromptIds, checkPromptTokens, checkSampling, promptLimitError, resolveLimits } from './engine-limits.ts';
import { resolveEngineOptions, type OnnxEngineOptions, type ResolvedEngineOptions } from './engine-options.ts';
import { IncrementalPromptImpl } from './incremental-prompt.ts';
import { PrefillStep } from './prefill-step.ts';
import { ScoreJob } from './score-job.ts';
import { Sequence, type SequenceLimits } from './sequence.ts';
import { TextCodec } from './text-codec.ts';
import type {
  BeginPromptOptions, EngineLimits, EngineStats, GenerateCallbacks, GenerateInput, GenerateResult, InferenceEngine,
  IncrementalPrompt, PromptInput, PromptPiece, SamplingOptions, ScoreInput, ScoreResult,
} from './types.ts';

/** Requests that have not ended. */
function live(seqs: readonly { ended: boolean }[]): number {
  let n = 0;
  for (const seq of seqs) if (!seq.ended) n++;
  return n;
}

export class OnnxEngine implements InferenceEngine {
  readonly limits: EngineLimits;
  private readonly sequenceLimits: SequenceLimits;
  /** Admitted, waiting for a batch slot. */
  private readonly waiting: Sequence[] = [];
  /** Taking their prefill, one run per step. */
  private prefilling: Sequence[] = [];
  private readonly batch: DecodeBatch;
  private readonly prefill: PrefillStep;
  /** Hand-off prompts admitted and not started: they hold an admission place and a KV row each. */
  private readonly prompts = new Set<IncrementalPromptImpl>();
  /** Prompts with text to prefill, served round robin, one chunk per step. */
  private readonly extending: IncrementalPromptImpl[] = [];
  /** Score requests, served round robin, one run per step. */
  private scoring: ScoreJob[] = [];
  private scoreRuns = 0;
  private wake: (() => void) | null = null;
  private closed = false;
  private readonly loopDone: Promise<void>;
  private decodeSteps = 0;
  private tokensGenerated = 0;
  private handoffPrefillRuns = 0;

  private constructor(
    readonly artifact: Artifact,
    readonly codec: TextCodec,
    private readonly session: DecoderSession,
    private readonly options: ResolvedEngineOptions,
  ) {
    const decoder = artifact.manifest.decoder;
    this.limits = resolveLimits(options, decoder.max_position_embeddings);
    this.sequenceLimits = { eosTokenIds: decoder.eos_token_ids, tokenText: this.tokenText };
    this.batch = new DecodeBatch(session);
    this.prefill = new PrefillStep(session, options.prefillChunk);
    this.loopDone = this.loop();
  }

  /** Loads and checks the artifact; throws FAILED_PRECONDITION when a limit does not fit the model's context. */
  static async load(options: OnnxEngineOptions): Promise<OnnxEngine> {
    const resolved = resolveEngineOptions(options, os.availableParallelism());
    const artifact = await loadArtifact(resolved.modelDir, resolved.precision);
    const d = artifact.manifest.decoder;
    resolveLimits(resolved, d.max_position_embeddings);
    const geometry = { layers: d.num_layers, heads: d.num_key_value_heads, headDim: d.head_dim };
    const session = await DecoderSession.open(artifact.onnxPath, geometry, d.vocab_size, { intraOpThreads: resolved.intraOpThreads, kvLayout: artifact.kvLayout });
    return new OnnxEngine(artifact, new TextCodec(artifact), session, resolved);
  }

  get hasChatTemplate(): boolean {
    return this.codec.hasChatTemplate;
  }

  renderPrompt(prompt: PromptInput): string {
    return this.codec.render(prompt);
  }

  renderPieces(prompt: PromptInput): PromptPiece[] {
    return this.codec.renderPieces(prompt);
  }

  generate(input: GenerateInput, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    try {
      checkSampling(this.limits, input.sampling);
      if (input.prompt.kind === 'ids') checkPromptIds(input.prompt.ids, this.artifact.manifest.decoder.vocab_size);
      const ids = this.codec.encodePrompt(input.prompt);
      checkPromptTokens(this.limits, ids.length, input.sampling.maxNewTokens);
      this.admit();
      const seq = new Sequence(input.requestId, ids, input.sampling, callbacks, this.sequenceLimits, this.decodeIds);
      return this.enqueue(seq);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  score(input: ScoreInput, options: { signal?: AbortSignal } = {}): Promise<ScoreResult> {
    try {
      const decoder = this.artifact.manifest.decoder;
      if (input.prompt.kind === 'ids') checkPromptIds(input.prompt.ids, decoder.vocab_size);
      const emptyPromptToken = decoder.bos_token_id ?? decoder.eos_token_ids[0];
      const ids = this.codec.encodeForScoring(input.prompt, input.continuations, emptyPromptToken);
      const longest = Math.max(...ids.continuations.map((c) => c.length));
      checkPromptTokens(this.limits, ids.prompt.length + longest, 0);
      this.admit();
      const job = new ScoreJob(input.requestId, ids.prompt, ids.continuations, input.topLogprobs, this.tokenText, options.signal);
      this.scoring.push(job);
      this.kick();
      return job.done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  beginPrompt(requestId: string, options: BeginPromptOptions = {}): IncrementalPrompt {
    const prompt = new IncrementalPromptImpl(requestId, options.addSpecialTokens ?? true, options.maxNewTokens ?? 1, {
      encode: (pieces, addSpecial) => this.codec.encodePieces(pieces, addSpecial),
      partialLimitError: (tokens, maxNewTokens) => promptLimitError(this.limits, tokens, maxNewTokens, true),
      scheduleExtension: (p) => {
        if (!this.extending.includes(p)) this.extending.push(p);
        this.kick();
      },
      release: (p) => {
        this.prompts.delete(p);
        const at = this.extending.indexOf(p);
        if (at >= 0) this.extending.splice(at, 1);
      },
      startSequence: (p, ids, sampling, callbacks) => this.startIncremental(p, ids, sampling, callbacks),
    }, options.onRefused);
    try {
      this.admit();
      this.prompts.add(prompt);
    } catch (error) {
      prompt.refuse(error as FslmError);
    }
    return prompt;
  }

  async stats(): Promise<EngineStats> {
    return this.currentStats();
  }

  /** What the engine holds right now (synchronously, on the engine's own thread). */
  currentStats(): EngineStats {
    const held = this.batch.held;
    let kvRows = held.rows;
    let kvPositions = held.positions;
    for (const seq of this.prefilling) {
      if (seq.cache) {
        kvRows += 1;
        kvPositions += seq.cache.lengths[seq.cacheRow] ?? 0;
      }
    }
    for (const job of this.scoring) {
      kvRows += job.held.rows;
      kvPositions += job.held.positions;
    }
    for (const prompt of this.prompts) {
      if (prompt.heldPositions > 0) {
        kvRows += 1;
        kvPositions += prompt.heldPositions;
      }
    }
    return {
      active: live(this.batch.rows), queued: live(this.waiting), prefilling: live(this.prefilling), scoring: live(this.scoring),
      openPrompts: this.prompts.size, admitted: this.admittedCount(), kvRows, kvPositions, decodeSteps: this.decodeSteps,
      prefillRuns: this.prefill.runs + this.handoffPrefillRuns, scoreRuns: this.scoreRuns, tokensGenerated: this.tokensGenerated,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.kick();
    await this.loopDone;
    for (const seq of [...this.waiting, ...this.prefilling, ...this.batch.rows]) seq.finish('cancelled');
    for (const job of this.scoring) job.fail(errors.unavailable('the engine is shutting down'));
    for (const prompt of [...this.prompts]) prompt.refuse(errors.unavailable('the engine is shutting down'));
    await this.session.close();
  }

  private readonly decodeIds = (ids: number[]): string => this.codec.decode(ids);
  private readonly tokenText = (id: number): string => this.codec.decode([id], false);

  /** Work admitted and not ended (a request that just ended leaves its list within the step). */
  private admittedCount(): number {
    return live(this.waiting) + live(this.prefilling) + live(this.batch.rows) + live(this.scoring) + this.prompts.size;
  }

  /** Throws unless one more piece of work fits: UNAVAILABLE when closed, RESOURCE_EXHAUSTED when batch and queue are full. */
  private admit(): void {
    if (this.closed) throw errors.unavailable('the engine is shutting down');
    if (this.admittedCount() >= this.options.maxBatchSize + this.options.maxQueue) {
      throw errors.resourceExhausted(
        `the stage is full (${this.options.maxBatchSize} in the batch and ${this.options.maxQueue} queued, hand-off prompts included); retry later or on another replica`,
      );
    }
  }

  private enqueue(seq: Sequence): Promise<GenerateResult> {
    this.waiting.push(seq);
    this.kick();
    return seq.done;
  }

  /** A started hand-off prompt becomes a request; it keeps the admission place it held. */
  private startIncremental(prompt: IncrementalPromptImpl, ids: number[], sampling: SamplingOptions, callbacks: GenerateCallbacks) {
    checkSampling(this.limits, sampling);
    checkPromptTokens(this.limits, ids.length, sampling.maxNewTokens);
    if (this.closed) throw errors.unavailable('the engine is shutting down');
    const seq = new Sequence(prompt.requestId, ids, sampling, callbacks, this.sequenceLimits, this.decodeIds);
    seq.adoptCacheFrom = prompt;
    this.prompts.delete(prompt);
    const at = this.extending.indexOf(prompt);
    if (at >= 0) this.extending.splice(at, 1);
    return this.enqueue(seq);
  }

  private kick(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      try {
        await this.iterate();
      } catch (error) {
        this.failAll(errors.internal(`inference failed: ${errorMessage(error)}`, error));
      }
    }
  }

  /** Only for faults outside any one request (the batch's own bookkeeping): nothing in flight can be trusted then. */
  private failAll(error: FslmError): void {
    for (const seq of this.prefilling) seq.fail(error);
    this.prefilling = [];
    for (const job of this.scoring) job.fail(error);
    this.scoring = [];
    this.batch.failAll(error);
  }

  private async iterate(): Promise<void> {
    this.dropEnded();
    await this.extendOne();
    this.dropEnded();
    this.admitToPrefill();
    if (this.prefilling.length > 0) {
      const done = await this.prefill.run(this.prefilling);
      this.tokensGenerated += done.length;
      this.batch.join(done.filter((seq) => !seq.ended));
      this.prefilling = this.prefilling.filter((seq) => !done.includes(seq) && !seq.ended);
      this.dropEnded();
    }
    await this.scoreOne();
    if (this.batch.rows.length > 0) {
      this.tokensGenerated += await this.batch.step();
      this.decodeSteps++;
    } else if (this.waiting.length === 0 && this.prefilling.length === 0 && this.extending.length === 0 && this.scoring.length === 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Requests whose callers aborted (cancel, deadline) leave before any more work is done for them. */
  private dropEnded(): void {
    const gone = (seq: Sequence) => seq.checkAborted() || seq.ended;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (gone(this.waiting[i])) this.waiting.splice(i, 1);
    }
    this.prefilling = this.prefilling.filter((seq) => !gone(seq));
    if (this.batch.rows.some(gone)) this.batch.compact();
    this.scoring = this.scoring.filter((job) => !job.checkAborted());
  }

  /** One run for the next score request (round robin: it goes to the back of the line). */
  private async scoreOne(): Promise<void> {
    this.dropEnded();
    const job = this.scoring.shift();
    if (!job) return;
    if (await job.step(this.session, this.options.prefillChunk)) this.scoreRuns++;
    if (!job.ended) this.scoring.push(job);
  }

  /** One chunk of prefill for the next hand-off prompt with text to prefill. */
  private async extendOne(): Promise<void> {
    const prompt = this.extending.shift();
    if (!prompt) return;
    let step = { ran: true, more: false };
    try {
      step = await prompt.extendStep(this.session, this.options.prefillChunk);
    } catch (error) {
      prompt.refuse(errors.internal(`prefill of hand-off prompt ${prompt.requestId} failed: ${errorMessage(error)}`, error));
    }
    if (step.ran) this.handoffPrefillRuns++;
    if (step.more && prompt.state === 'open' && !this.extending.includes(prompt)) this.extending.push(prompt);
  }

  private admitToPrefill(): void {
    const free = this.options.maxBatchSize - this.batch.rows.length - this.prefilling.length;
    if (free > 0 && this.waiting.length > 0) this.prefilling.push(...this.waiting.splice(0, free));
  }
}
