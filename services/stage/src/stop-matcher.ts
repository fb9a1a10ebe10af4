// Finds stop strings in streamed text. Text that could still become a stop string is held back,
// so a client never sees the start of a stop string that later completes.

export interface StopCheck {
  /** Text safe to emit now. */
  emit: string;
  /** True once a stop string was found; `emit` then ends just before it. */
  stopped: boolean;
}

export class StopMatcher {
  private pending = '';
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = stops.reduce((max, s) => Math.max(max, s.length), 0);
  }

  push(text: string): StopCheck {
    if (this.stops.length === 0) return { emit: text, stopped: false };
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = '';
      return { emit, stopped: true };
    }
    const hold = this.heldSuffixLength();
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** Releases held text when generation ends without a stop string. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** Length of the longest suffix of pending text that is a proper prefix of some stop string. */
  private heldSuffixLength(): number {
    const maxLen = Math.min(this.pending.length, this.longest - 1);
    for (let len = maxLen; len > 0; len--) {
      const suffix = this.pending.slice(this.pending.length - len);
      if (this.stops.some((s) => s.startsWith(suffix))) return len;
    }
    return 0;
  }
}
