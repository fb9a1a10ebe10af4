// Notices a stage replica that went quiet: anything heard from it (accepted, heartbeat, delta) resets
// the clock, and `onLost` runs once nothing was heard for `timeoutMs`.
export class HeartbeatWatch {
  private lastHeard = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number, onLost: () => void) {
    this.timer = setInterval(() => {
      if (Date.now() - this.lastHeard > timeoutMs) onLost();
    }, Math.max(20, Math.floor(timeoutMs / 5)));
    this.timer.unref();
  }

  heard(): void {
    this.lastHeard = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
