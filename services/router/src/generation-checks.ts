// The checks every door applies to one stage's generation parameters before anything runs, and the
// proto3 reading of parameters that come over gRPC (zero = the stack's value).
//
// Inside the router a GenerationParams field that is `undefined` is "not set" (the stack's value
// applies); any other value, zero included, was asked for explicitly and is checked.
import type { GenerationParams__Output } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import { MAX_STOP_LENGTH, MAX_TOP_LOGPROBS, MAX_STOP_SEQUENCES, MAX_TEMPERATURE, MAX_REPETITION_PENALTY, MIN_REPETITION_PENALTY } from './defaults.ts';
import { requestErrors } from './request-errors.ts';
import type { StageParams } from './types.ts';

export const UINT32_MAX = 2 ** 32 - 1;
const UINT64_MAX = (1n << 64n) - 1n;

export type ParamKey = keyof StageParams;

/** Names a parameter the way the client wrote it (e.g. `params.final.max_new_tokens` or `max_tokens`). */
export type ParamField = (key: ParamKey) => string;

/**
 * Parameters as a gRPC client sent them: proto3 cannot tell an unset field from zero, and the wire
 * contract says zero means "the stack's value", so zeros (and an absent seed) become `undefined`.
 */
export function fromWireParams(p: GenerationParams__Output | null | undefined): StageParams {
  if (!p) return {};
  const nonZero = (v: number | undefined | null) => (v === undefined || v === null || v === 0 ? undefined : v);
  const seed = p.seed === undefined || p.seed === null || p.seed === '' ? undefined : String(p.seed);
  return {
    max_new_tokens: nonZero(p.max_new_tokens),
    temperature: nonZero(p.temperature),
    top_k: nonZero(p.top_k),
    top_p: nonZero(p.top_p),
    repetition_penalty: nonZero(p.repetition_penalty),
    seed,
    stop: p.stop && p.stop.length > 0 ? [...p.stop] : undefined,
  };
}

function range(field: string, v: number, min: number, max: number, rule: string, integer: boolean, minExclusive = false): void {
  if (typeof v !== 'number') throw requestErrors.invalidType(field, integer ? 'an integer' : 'a number', v);
  if (Number.isNaN(v)) throw requestErrors.invalidValue(field, `NaN is not allowed; expected ${rule}`);
  if (integer && !Number.isInteger(v) && Number.isFinite(v)) throw requestErrors.invalidType(field, 'an integer', v);
  if (minExclusive ? v <= min : v < min) throw requestErrors.outOfRange(field, v, rule, true, integer);
  if (v > max) throw requestErrors.outOfRange(field, v, rule, false, integer);
}

/**
 * Checks the explicitly set fields of one stage's parameters against the limits that do not depend on
 * the stage (the stage's own limits are checked by request-limits.ts once the stage has described
 * itself). Throws a RequestError naming the field (via `field`) and the rule.
 */
export function checkGenerationParams(p: StageParams, field: ParamField): void {
  if (p.max_new_tokens !== undefined) range(field('max_new_tokens'), p.max_new_tokens, 1, UINT32_MAX, `an integer >= 1 (and at most the stage's limit)`, true);
  if (p.temperature !== undefined) range(field('temperature'), p.temperature, 0, MAX_TEMPERATURE, `a number in [0, ${MAX_TEMPERATURE}] (0 = greedy)`, false);
  if (p.top_p !== undefined) range(field('top_p'), p.top_p, 0, 1, 'a number in (0, 1]', false, true);
  if (p.top_k !== undefined) range(field('top_k'), p.top_k, 0, UINT32_MAX, 'a non-negative integer (0 = no top-k filter)', true);
  if (p.repetition_penalty !== undefined) {
    range(field('repetition_penalty'), p.repetition_penalty, MIN_REPETITION_PENALTY, MAX_REPETITION_PENALTY,
      `a number in [${MIN_REPETITION_PENALTY}, ${MAX_REPETITION_PENALTY}] (1 = none)`, false);
  }
  if (p.seed !== undefined) {
    const text = p.seed;
    if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) > UINT64_MAX) throw requestErrors.invalidValue(field('seed'), `${text} is not an unsigned 64-bit integer`);
  }
  if (p.top_logprobs !== undefined) {
    range(field('top_logprobs'), p.top_logprobs, 0, MAX_TOP_LOGPROBS, `an integer in [0, ${MAX_TOP_LOGPROBS}]`, true);
    if (p.top_logprobs > 0 && p.logprobs !== true) throw requestErrors.invalidValue(field('top_logprobs'), `only allowed when ${field('logprobs')} is true`);
  }
  if (p.stop !== undefined) {
    if (p.stop.length > MAX_STOP_SEQUENCES) throw requestErrors.invalidValue(field('stop'), `at most ${MAX_STOP_SEQUENCES} stop sequences, got ${p.stop.length}`);
    p.stop.forEach((s, i) => {
      if (typeof s !== 'string') throw requestErrors.invalidType(`${field('stop')}[${i}]`, 'a string', s);
      if (s.length === 0 || s.length > MAX_STOP_LENGTH) {
        throw requestErrors.invalidValue(`${field('stop')}[${i}]`, `a stop sequence has 1 to ${MAX_STOP_LENGTH} characters, got ${s.length}`);
      }
    });
  }
}
