// What the router knows of each stage's limits: learned from the stage itself on its describe subject,
// kept for a bounded time per stage, fetched at most once at a time per stage. A stage that cannot be
// described makes the request UNAVAILABLE at once, before any stage runs.
import { errors, toFslmError } from '../../shared/errors.ts';
import type { DescribeResponse__Output } from '../../shared/generated/fslm/v1/DescribeResponse.ts';
import type { MessageBus, StageAddress } from './types.ts';

/** The limits of one stage, as one of its replicas described them. */
export interface StageLimits {
  /** Longest prompt (tokens, chat template included) the stage accepts. */
  maxPromptTokens: number;
  /** Largest max_new_tokens the stage accepts. */
  maxNewTokensLimit: number;
  /** The max_new_tokens the stage uses when a request sets none; null when it does not say. */
  defaultMaxNewTokens: number | null;
  /** The model's context (prompt plus generated tokens); null when the artifact does not say. */
  maxPositions: number | null;
  /** The model version (sha256 of its fslm.json) of the replica that answered. */
  modelVersion: string;
}

export interface StageLimitsOptions {
  /** How long a description is used before the stage is asked again. */
  ttlMs: number;
  /** Longest wait for a stage's answer. */
  timeoutMs: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** A DescribeResponse as StageLimits, or UNAVAILABLE when it lacks the limits the router needs. */
export function toStageLimits(stage: string, d: DescribeResponse__Output): StageLimits {
  if (!(d.max_prompt_tokens > 0) || !(d.max_new_tokens_limit > 0)) {
    throw errors.unavailable(`stage ${stage} described itself without its limits (max_prompt_tokens ${d.max_prompt_tokens}, max_new_tokens_limit ${d.max_new_tokens_limit})`);
  }
  const positions = d.manifest?.decoder?.max_position_embeddings ?? 0;
  return {
    maxPromptTokens: d.max_prompt_tokens,
    maxNewTokensLimit: d.max_new_tokens_limit,
    defaultMaxNewTokens: d.default_max_new_tokens > 0 ? d.default_max_new_tokens : null,
    maxPositions: positions > 0 ? positions : null,
    modelVersion: d.manifest?.version ?? '',
  };
}

interface Entry {
  limits: StageLimits;
  at: number;
}

export class StageLimitsCache {
  private readonly known = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<StageLimits>>();
  private readonly now: () => number;

  constructor(private readonly bus: Pick<MessageBus, 'describe'>, private readonly options: StageLimitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The stage's limits: the cached ones while younger than the TTL, else asked of the stage (one
   * question per stage at a time, waiting at most the timeout or until `deadlineMs`). Rejects with
   * UNAVAILABLE when it cannot be described.
   */
  limitsOf(address: StageAddress, deadlineMs = Infinity): Promise<StageLimits> {
    const key = address.subjectPrefix;
    const entry = this.known.get(key);
    if (entry && this.now() - entry.at < this.options.ttlMs) return Promise.resolve(entry.limits);
    let asking = this.pending.get(key);
    if (!asking) {
      const timeoutMs = Math.max(1, Math.min(this.options.timeoutMs, deadlineMs - this.now()));
      asking = this.bus.describe(address, timeoutMs)
        .then((d) => {
          const limits = toStageLimits(address.stage, d);
          this.known.set(key, { limits, at: this.now() });
          return limits;
        }, (error) => {
          // A stage that cannot be described is asked again by the next request, not served from an old answer.
          this.known.delete(key);
          throw toFslmError(error);
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, asking);
    }
    return asking;
  }
}
