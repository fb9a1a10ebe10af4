// The controller's Prometheus metrics. Built on any OTel Meter; the default no-op meter lets tests
// and the local executor use the reconciler without a metrics endpoint.
import { createNoopMeter, type Counter, type Histogram, type Meter } from '@opentelemetry/api';

export interface MetricsSources {
  /** Runs by phase, read at scrape time. */
  runsByPhase?: () => Record<string, number>;
  queueDepth?: () => number;
  isLeader?: () => boolean;
}

export class ControllerMetrics {
  readonly reconciles: Counter;
  readonly reconcileSeconds: Histogram;
  readonly jobsCreated: Counter;
  readonly retries: Counter;
  readonly stageSeconds: Histogram;
  readonly statusPatches: Counter;
  readonly informerRestarts: Counter;

  constructor(meter: Meter = createNoopMeter(), sources: MetricsSources = {}) {
    this.reconciles = meter.createCounter('fslm_controller_reconciles', { description: 'Reconciles of StackTrainingRuns, by result' });
    this.reconcileSeconds = meter.createHistogram('fslm_controller_reconcile_duration_seconds', {
      description: 'Time spent in one reconcile',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
    });
    this.jobsCreated = meter.createCounter('fslm_controller_jobs_created', { description: 'Stage Jobs created, by stage' });
    this.retries = meter.createCounter('fslm_controller_stage_retries', { description: 'Stage attempts after the first' });
    this.stageSeconds = meter.createHistogram('fslm_controller_stage_duration_seconds', {
      description: 'Wall time of finished stages, first start to finish, by final phase',
      advice: { explicitBucketBoundaries: [1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400] },
    });
    this.statusPatches = meter.createCounter('fslm_controller_status_updates', { description: 'Status writes (only when the status changed)' });
    this.informerRestarts = meter.createCounter('fslm_controller_informer_restarts', { description: 'Informer restarts after an error, by informer' });
    const runs = meter.createObservableGauge('fslm_controller_runs', { description: 'StackTrainingRuns seen, by phase' });
    runs.addCallback((r) => {
      for (const [phase, n] of Object.entries(sources.runsByPhase?.() ?? {})) r.observe(n, { phase });
    });
    const depth = meter.createObservableGauge('fslm_controller_queue_depth', { description: 'Runs waiting in the work queue' });
    depth.addCallback((r) => r.observe(sources.queueDepth?.() ?? 0));
    const leader = meter.createObservableGauge('fslm_controller_is_leader', { description: '1 when this replica holds the lease' });
    leader.addCallback((r) => r.observe(sources.isLeader?.() ? 1 : 0));
  }
}
