// Backpressure: a bounded number of requests in flight; beyond it, RESOURCE_EXHAUSTED at once.
import { errors } from '../../shared/errors.ts';

export class Admission {
  private active = 0;

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  /** Takes a slot or throws RESOURCE_EXHAUSTED; the returned function gives it back (once). */
  acquire(): () => void {
    if (this.active >= this.limit) throw errors.resourceExhausted(`the router is running ${this.limit} requests already; retry later`);
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}
