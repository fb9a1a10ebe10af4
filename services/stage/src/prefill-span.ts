// Which prompt positions one prefill run computes, so that a prompt's numbers do not depend on how it
// was cut into runs (one run, engine chunks, or the pieces of a streamed hand-off).
//
// GroupQueryAttention (the int8 and int4 graphs, onnxruntime-genai's builder) computes a run of ONE new
// token on top of a non-empty cache with its token-generation kernel, whose numbers differ from its
// prompt kernel's: on SmolLM2-135M int8 the last position's logits move by up to ~0.8, enough to change
// greedy text. Runs of two or more tokens, and a first run of any length, give bit-identical numbers
// however a prompt is cut. So a prompt position is never computed alone on top of a cache: a run does
// not leave exactly one token for the next, and when one token is left (or none, and the last
// position's logits are wanted) the run steps back over the last cached position.

/** The positions [from, to) of a prompt that one prefill run computes. */
export interface PrefillSpan {
  /** First position the run feeds; below the cached count when the run steps back (the cache is cut to it). */
  from: number;
  /** One past the last position the run feeds. */
  to: number;
}

/**
 * The next prefill run of a prompt of `total` ids (>= 1) of which the first `cached` (0..total) are in
 * a one-row cache, at most `chunk` (>= 1) ids per run. With everything cached the run recomputes the
 * last position (its logits are wanted). With `chunk` 1 every run is one token, as for every prompt
 * on such an engine. Throws RangeError for arguments outside those ranges.
 */
export function prefillSpan(cached: number, total: number, chunk: number): PrefillSpan {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total must be a positive integer, got ${total}`);
  if (!Number.isInteger(cached) || cached < 0 || cached > total) throw new RangeError(`cached must be an integer in 0..${total}, got ${cached}`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`chunk must be a positive integer, got ${chunk}`);
  if (chunk === 1) {
    const from = Math.min(cached, total - 1);
    return { from, to: from + 1 };
  }
  // One token (or none) left on top of a cache: step back so that the run feeds two.
  const from = total - cached < 2 ? Math.max(0, total - 2) : cached;
  let to = Math.min(from + chunk, total);
  // Leave two or more for the next run rather than one (which would have to step back).
  if (total - to === 1 && to - from > 2) to--;
  return { from, to };
}

/**
 * The fewest new ids a prefill run ahead of a prompt's end (the streamed hand-off, while the text still
 * arrives) feeds: 2, so that it never runs a lone token on top of a cache (the rest waits for more text
 * or for the prompt's last run); 1 when `chunk` is 1.
 */
export function minAheadRun(chunk: number): number {
  return Math.min(2, chunk);
}
