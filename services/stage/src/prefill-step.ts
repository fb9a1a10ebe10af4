// One prefill run per engine step for the sequences taking their prefill: fresh short prompts together
// in one run, or one chunk of a long (or partly cached) prompt, so that no request waits more than one
// step to be stopped and decoding rows keep their pace. A failure is kept to its own request. A prompt's
// numbers do not depend on its runs (prefill-span.ts).
import { errorMessage, errors } from '../../shared/errors.ts';
import type { DecoderSession } from './decoder-session.ts';
import { acceptInto } from './decode-batch.ts';
import { prefillSpan } from './prefill-span.ts';
import type { Sequence } from './sequence.ts';

/** Chooses and runs the prefill of one engine step (owned by the engine's loop). */
export class PrefillStep {
  /** Sequences whose grouped run failed: they continue one by one, so a bad one fails alone. */
  private readonly solo = new WeakSet<Sequence>();
  private groupTurn = true;
  /** Prefill runs so far. */
  runs = 0;

  constructor(private readonly session: DecoderSession, private readonly chunk: number) {}

  /** Runs one prefill for some of `prefilling`; returns the sequences that finished their prefill (first token taken). */
  async run(prefilling: readonly Sequence[]): Promise<Sequence[]> {
    for (const seq of prefilling) this.touch(seq);
    const live = prefilling.filter((seq) => !seq.ended);
    const groupable = live.filter((seq) => seq.cache === null && !this.solo.has(seq) && seq.promptIds.length <= this.chunk);
    const alone = live.filter((seq) => !groupable.includes(seq));
    if (groupable.length === 0 && alone.length === 0) return [];
    const group = groupable.length > 0 && (alone.length === 0 || this.groupTurn);
    this.groupTurn = !this.groupTurn;
    return group ? this.runGroup(groupable) : this.runChunk(alone[0]);
  }

  /** First touch: the prefill clock starts and a hand-off prompt's cache is taken over. */
  private touch(seq: Sequence): void {
    if (seq.ended || seq.prefillStarted) return;
    seq.markPrefillStart();
    try {
      seq.adoptCache();
    } catch (error) {
      seq.fail(errors.internal(`request ${seq.requestId} could not take over its prefilled cache: ${errorMessage(error)}`, error));
    }
  }

  private async runGroup(candidates: Sequence[]): Promise<Sequence[]> {
    const members: Sequence[] = [];
    let longest = 0;
    for (const seq of candidates) {
      const next = Math.max(longest, seq.promptIds.length);
      if (members.length > 0 && next * (members.length + 1) > this.chunk) break;
      members.push(seq);
      longest = next;
    }
    let out;
    this.runs++;
    try {
      out = await this.session.run(this.session.emptyCache(members.length), members.map((s) => s.promptIds), members.some((s) => s.needsLogits));
    } catch (error) {
      if (members.length === 1) members[0].fail(errors.internal(`prefill failed for request ${members[0].requestId}: ${errorMessage(error)}`, error));
      for (const seq of members) this.solo.add(seq);
      return [];
    }
    const done: Sequence[] = [];
    members.forEach((seq, row) => {
      if (seq.ended) return;
      seq.cache = out.cache;
      seq.cacheRow = row;
      if (acceptInto(seq, out, row)) done.push(seq);
    });
    return done;
  }

  private async runChunk(seq: Sequence): Promise<Sequence[]> {
    const total = seq.promptIds.length;
    const cached = seq.cache?.lengths[0] ?? 0;
    // No lone token on top of the cache (its numbers would differ from the one-run prefill's): with
    // one token left, or none (the last position's logits are wanted), the run steps back.
    const span = prefillSpan(cached, total, this.chunk);
    let cache = seq.cache ?? this.session.emptyCache(1);
    if (span.from < cached) cache = span.from > 0 ? cache.truncateSingle(span.from) : this.session.emptyCache(1);
    const piece = seq.promptIds.slice(span.from, span.to);
    const last = span.to === total;
    this.runs++;
    try {
      const out = await this.session.run(cache, [piece], last && seq.needsLogits);
      if (seq.ended) return [];
      seq.cache = out.cache;
      seq.cacheRow = 0;
      return last && acceptInto(seq, out, 0) ? [seq] : [];
    } catch (error) {
      seq.fail(errors.internal(`prefill failed for request ${seq.requestId}: ${errorMessage(error)}`, error));
      return [];
    }
  }
}
