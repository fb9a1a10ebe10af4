// The ONNX decoder engine: a single scheduling loop that prefills new requests and decodes every
// active request together, one token per step, each row with its own attention mask and positions.
import os from 'node:os';
import { errorMessage, errors, type FslmError } from '../../shared/errors.ts';
import { loadArtifact, type Artifact } from './artifact.ts';
import { DecoderSession, type StepOutput } from './decoder-session.ts';
import { resolveEngineOptions, type OnnxEngineOptions, type ResolvedEngineOptions } from './engine-options.ts';
import { IncrementalPromptImpl } from './incremental-prompt.ts';
import type { KvCache } from './kv-cache.ts';
import { Sequence, type SequenceLimits } from './sequence.ts';
import { TextCodec } from './text-codec.ts';
import type {
  EngineLimits, EngineStats, GenerateCallbacks, GenerateInput, GenerateResult, InferenceEngine,
  IncrementalPrompt, PromptInput, SamplingOptions,
} from './types.ts';

export class OnnxEngine implements InferenceEngine {
  readonly limits: EngineLimits;
  private readonly sequenceLimits: SequenceLimits;
  private readonly waiting: Sequence[] = [];
  private readonly extending = new Set<IncrementalPromptImpl>();
  private rows: Sequence[] = [];
  private inPrefill: Sequence[] = [];
  private batchCache: KvCache | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private readonly loopDone: Promise<void>;
  private decodeSteps = 0;
  private tokensGenerated = 0;

  private constructor(
    readonly artifact: Artifact,
    readonly codec: TextCodec,
    private readonly session: DecoderSession,
    private readonly options: ResolvedEngineOptions,
  ) {
    this.limits = {
      maxBatchSize: options.maxBatchSize,
      maxQueue: options.maxQueue,
      maxPromptTokens: options.maxPromptTokens,
      maxNewTokensLimit: options.maxNewTokensLimit,
      defaultMaxNewTokens: options.defaultMaxNewTokens,
    };
    const decoder = artifact.manifest.decoder;
    this.sequenceLimits = { eosTokenIds: decoder.eos_token_ids, maxPositions: decoder.max_position_embeddings || Infinity };
    this.loopDone = this.loop();
  }

  static async load(options: OnnxEngineOptions): Promise<OnnxEngine> {
    const resolved = resolveEngineOptions(options, os.availableParallelism());
    const artifact = await loadArtifact(resolved.modelDir, resolved.precision);
    const d = artifact.manifest.decoder;
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

  generate(input: GenerateInput, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    try {
      const ids = this.codec.encodePrompt(input.prompt);
      return this.enqueue(new Sequence(input.requestId, this.checkPrompt(ids), input.sampling, callbacks, this.sequenceLimits, this.decodeIds));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  beginPrompt(requestId: string, options: { addSpecialTokens?: boolean } = {}): IncrementalPrompt {
    return new IncrementalPromptImpl(requestId, options.addSpecialTokens ?? true, {
      encode: (text, addSpecial) => this.codec.encode(text, addSpecial),
      scheduleExtension: (prompt) => {
        this.extending.add(prompt);
        this.kick();
      },
      cancelExtension: (prompt) => this.extending.delete(prompt),
      startSequence: (prompt, ids, sampling, callbacks) => this.startIncremental(prompt, ids, sampling, callbacks),
    });
  }

  stats(): EngineStats {
    return { active: this.rows.length, queued: this.waiting.length, decodeSteps: this.decodeSteps, tokensGenerated: this.tokensGenerated };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.kick();
    await this.loopDone;
    for (const seq of [...this.waiting, ...this.rows]) seq.finish('cancelled');
    await this.session.close();
  }

  private readonly decodeIds = (ids: number[]): string => this.codec.decode(ids);

  private checkPrompt(ids: number[]): number[] {
    if (ids.length === 0) throw errors.invalidArgument('the prompt is empty', 'prompt');
    if (ids.length > this.options.maxPromptTokens) {
      throw errors.invalidArgument(`the prompt has ${ids.length} tokens; this stage accepts at most ${this.options.maxPromptTokens}`, 'prompt');
    }
    return ids;
  }

  private enqueue(seq: Sequence): Promise<GenerateResult> {
    if (this.closed) throw errors.unavailable('the engine is shutting down');
    if (this.waiting.length + this.inPrefill.length + this.rows.length >= this.options.maxBatchSize + this.options.maxQueue) {
      throw errors.resourceExhausted(`the stage queue is full (${this.options.maxQueue} waiting); retry later or on another replica`);
    }
    this.waiting.push(seq);
    this.kick();
    return seq.done;
  }

  private startIncremental(prompt: IncrementalPromptImpl, ids: number[], sampling: SamplingOptions, callbacks: GenerateCallbacks) {
    this.extending.delete(prompt);
    const seq = new Sequence(prompt.requestId, this.checkPrompt(ids), sampling, callbacks, this.sequenceLimits, this.decodeIds);
    seq.adoptCacheFrom = prompt;
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

  /** After a failed run nothing in flight can be trusted: fail it all and start again clean. */
  private failAll(error: FslmError): void {
    for (const seq of [...this.rows, ...this.inPrefill]) seq.fail(error);
    this.rows = [];
    this.inPrefill = [];
    this.batchCache = null;
  }

  private async iterate(): Promise<void> {
    this.dropAborted();
    for (const prompt of this.extending) {
      this.extending.delete(prompt);
      await prompt.extend(this.session, this.options.prefillChunk);
      break;
    }
    const free = this.options.maxBatchSize - this.rows.length;
    if (free > 0 && this.waiting.length > 0) {
      this.inPrefill = this.waiting.splice(0, free);
      await this.prefill(this.inPrefill);
      this.inPrefill = [];
    }
    if (this.rows.length > 0) await this.decodeStep();
    else if (this.waiting.length === 0 && this.extending.size === 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }


  private dropAborted(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].checkAborted()) this.waiting.splice(i, 1);
    }
    if (this.rows.some((seq) => seq.checkAborted())) this.compact();
  }

  /** Prefills newly admitted sequences (short fresh prompts together), samples their first token and joins them to the batch. */
  private async prefill(admitted: Sequence[]): Promise<void> {
    const chunk = this.options.prefillChunk;
    const group: Sequence[] = [];
    for (const seq of admitted) {
      seq.markPrefillStart();
      seq.adoptCache();
      if (seq.cache === null && seq.promptIds.length <= chunk) group.push(seq);
      else await this.prefillAlone(seq);
    }
    for (let start = 0; start < group.length; ) {
      let end = start;
      let longest = 0;
      while (end < group.length && Math.max(longest, group[end].promptIds.length) * (end - start + 1) <= chunk) {
        longest = Math.max(longest, group[end].promptIds.length);
        end++;
      }
      end = Math.max(end, start + 1);
      const members = group.slice(start, end);
      const out = await this.session.run(this.session.emptyCache(members.length), members.map((s) => s.promptIds), members.some((s) => s.needsLogits));
      members.forEach((seq, row) => {
        seq.cache = out.cache;
        seq.cacheRow = row;
        this.acceptFrom(seq, out, row);
      });
      start = end;
    }
    this.join(admitted.filter((seq) => !seq.finishReason));
  }

  private async prefillAlone(seq: Sequence): Promise<void> {
    let cache = seq.cache ?? this.session.emptyCache(1);
    let pending = seq.pendingPromptIds();
    if (pending.length === 0) {
      // The whole prompt is cached already; re-run its last token to get the logits.
      cache = cache.truncateSingle(seq.promptIds.length - 1);
      pending = seq.promptIds.slice(-1);
    }
    let out: StepOutput | null = null;
    for (let at = 0; at < pending.length; at += this.options.prefillChunk) {
      const last = at + this.options.prefillChunk >= pending.length;
      out = await this.session.run(cache, [pending.slice(at, at + this.options.prefillChunk)], last && seq.needsLogits);
      cache = out.cache;
    }
    seq.cache = cache;
    this.acceptFrom(seq, out!, 0);
  }

  private join(joining: Sequence[]): void {
    if (joining.length === 0) return;
    if (this.rows.length === 0 && joining.length === 1 && joining[0].cache!.rows === 1) {
      this.batchCache = joining[0].cache;
    } else {
      const parts = this.rows.map((_, row) => ({ cache: this.batchCache!, row }));
      for (const seq of joining) parts.push({ cache: seq.cache!, row: seq.cacheRow });
      this.batchCache = this.session.gatherCache(parts);
    }
    for (const seq of joining) seq.cache = null;
    this.rows.push(...joining);
  }

  private async decodeStep(): Promise<void> {
    const out = await this.session.run(this.batchCache!, this.rows.map((seq) => [seq.lastToken]), this.rows.some((s) => s.needsLogits));
    this.batchCache = out.cache;
    this.decodeSteps++;
    this.rows.forEach((seq, row) => {
      if (!seq.finishReason) this.acceptFrom(seq, out, row);
    });
    if (this.rows.some((seq) => seq.finishReason)) this.compact();
  }

  private acceptFrom(seq: Sequence, out: StepOutput, row: number): void {
    if (out.logits) seq.accept(out.logits[row]);
    else seq.acceptToken(out.nextTokens![row]);
    this.tokensGenerated++;
  }

  /** Removes finished rows from the batch. */
  private compact(): void {
    const keep: number[] = [];
    this.rows.forEach((seq, row) => {
      if (!seq.finishReason) keep.push(row);
    });
    if (keep.length === this.rows.length) return;
    const cache = this.batchCache!;
    this.batchCache = keep.length === 0 ? null : this.session.gatherCache(keep.map((row) => ({ cache, row })));
    this.rows = keep.map((row) => this.rows[row]);
  }
}
