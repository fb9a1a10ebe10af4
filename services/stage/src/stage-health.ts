// What a stage's grpc.health.v1 reports: SERVING only while nothing keeps it from taking work. Each
// reason it cannot (still starting, its NATS connection down) holds it NOT_SERVING until that reason is
// lifted; once it stops (a signal, the engine failed) it is NOT_SERVING for good. The health service
// "liveness" says only whether the process is alive and answering (SERVING until it stops): a liveness
// probe checks it, so a NATS outage makes the stage unready, not restarted.
import type { HealthImplementation } from 'grpc-health-check';

/** The grpc.health.v1 service name a liveness probe checks (SERVING from start until the stage stops). */
export const LIVENESS_SERVICE = 'liveness';

/** Why a stage cannot take work now. */
export type NotServingReason = 'starting' | 'nats-disconnected';

/** The health status of one stage: '' (the whole server) and its service name, always together. */
export class StageHealth {
  private readonly reasons = new Set<NotServingReason>(['starting']);
  private closed = false;
  private reported: 'SERVING' | 'NOT_SERVING' = 'NOT_SERVING';

  /**
   * `health` is the server's (its statuses start NOT_SERVING: grpc-server.ts); `onChange` hears every
   * change of the reported status, with the reasons that hold it NOT_SERVING.
   */
  constructor(
    private readonly health: HealthImplementation,
    private readonly serviceName: string,
    private readonly onChange?: (status: 'SERVING' | 'NOT_SERVING', reasons: string[]) => void,
  ) {
    this.health.setStatus(LIVENESS_SERVICE, 'SERVING');
    this.apply();
  }

  /** The status health reports now. */
  get status(): 'SERVING' | 'NOT_SERVING' {
    return this.reported;
  }

  /** `reason` holds the stage NOT_SERVING until {@link lift} lifts it. */
  hold(reason: NotServingReason): void {
    this.reasons.add(reason);
    this.apply();
  }

  /** `reason` no longer holds the stage; it reports SERVING when no other reason does (and it is not stopped). */
  lift(reason: NotServingReason): void {
    this.reasons.delete(reason);
    this.apply();
  }

  /** NOT_SERVING from now on, whatever is lifted later (the stage is stopping). */
  stop(): void {
    this.closed = true;
    this.health.setStatus(LIVENESS_SERVICE, 'NOT_SERVING');
    this.apply();
  }

  private apply(): void {
    const status = this.closed || this.reasons.size > 0 ? 'NOT_SERVING' : 'SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(this.serviceName, status);
    if (status === this.reported) return;
    this.reported = status;
    this.onChange?.(status, this.closed ? ['stopped'] : [...this.reasons]);
  }
}
