// Wires the operator together: leader election gates the work; the leader starts the informers
// (through K8sCluster for runs and K8sStackCluster for stacks), waits for their first lists, then runs
// one work queue into each reconciler.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ControllerConfig } from './config.ts';
import type { Telemetry } from './telemetry.ts';
import { errorMessage } from '../../shared/errors.ts';
import { K8sCluster } from './cluster-k8s.ts';
import { LeaderElector } from './leader-election.ts';
import { ControllerMetrics } from './metrics.ts';
import { RunReconciler, type Logger } from './run-reconciler.ts';
import { K8sStackCluster } from './stack-cluster-k8s.ts';
import { StackReconciler } from './stack-reconciler.ts';
import { TracerSpanSink } from './span-sink.ts';
import { WorkQueue } from './work-queue.ts';

/** Every run is looked at this often even without events, as a safety net. */
export const RESYNC_INTERVAL_MS = 5 * 60_000;

export interface ControllerDeps {
  kubeConfig: KubeConfig;
  config: ControllerConfig;
  telemetry: Telemetry;
  log: Logger;
}

export class Controller {
  private readonly queue: WorkQueue;
  private readonly stackQueue: WorkQueue;
  private cluster: K8sCluster | undefined;
  private stackCluster: K8sStackCluster | undefined;
  private elector: LeaderElector | undefined;
  private resync: NodeJS.Timeout | undefined;
  private leading = false;
  readonly metrics: ControllerMetrics;

  constructor(private readonly deps: ControllerDeps) {
    const { log } = deps;
    this.queue = new WorkQueue({
      workers: deps.config.workers,
      onError: (key, e, ms) => log('reconcile failed', { run: key, error: errorMessage(e), retryInMs: ms }),
    });
    this.stackQueue = new WorkQueue({
      workers: deps.config.workers,
      onError: (key, e, ms) => log('reconcile failed', { stack: key, error: errorMessage(e), retryInMs: ms }),
    });
    this.metrics = new ControllerMetrics(deps.telemetry.meter, {
      queueDepth: () => this.queue.length + this.stackQueue.length,
      isLeader: () => this.leading,
      runsByPhase: () => {
        const out: Record<string, number> = {};
        for (const r of this.cluster?.runs() ?? []) {
          const p = r.status?.phase ?? 'Unknown';
          out[p] = (out[p] ?? 0) + 1;
        }
        return out;
      },
    });
  }

  /** Runs until `signal` aborts (resolves 0) or leadership is lost (resolves 1). */
  async run(signal: AbortSignal): Promise<number> {
    const { config, log } = this.deps;
    if (!config.leaderElect) {
      await this.startWork();
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
      await this.stopWork();
      return 0;
    }
    let lost = false;
    let release: () => void = () => {};
    const done = new Promise<void>((r) => (release = r));
    this.elector = new LeaderElector({
      kubeConfig: this.deps.kubeConfig,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      log: (m) => log(m),
      onStartedLeading: () => {
        this.startWork().catch((e) => {
          log('starting work failed', { error: errorMessage(e) });
          lost = true;
          release();
        });
      },
      onStoppedLeading: () => {
        lost = true;
        release();
      },
    });
    log('waiting for leadership', { identity: config.identity, lease: `${config.leaseNamespace}/${config.leaseName}` });
    const campaign = this.elector.run().catch((e) => log('leader election failed', { error: errorMessage(e) }));
    signal.addEventListener('abort', () => release(), { once: true });
    await done;
    await this.stopWork();
    await this.elector.stop();
    await campaign;
    return lost && !signal.aborted ? 1 : 0;
  }

  private async startWork(): Promise<void> {
    const { config, telemetry, log } = this.deps;
    this.leading = true;
    const restarted = (name: string, error: string, delayMs: number): void => {
      this.metrics.informerRestarts.add(1, { informer: name });
      log('informer restarting', { informer: name, error, delayMs });
    };
    const cluster = new K8sCluster({
      kubeConfig: this.deps.kubeConfig, namespace: config.namespace, enqueue: (key) => this.queue.add(key), onInformerRestart: restarted,
    });
    this.cluster = cluster;
    const stackCluster = new K8sStackCluster({
      kubeConfig: this.deps.kubeConfig, namespace: config.namespace, enqueue: (key) => this.stackQueue.add(key), onInformerRestart: restarted,
    });
    this.stackCluster = stackCluster;
    await Promise.all([cluster.start(), stackCluster.start()]);
    log('caches synced; reconciling', { identity: config.identity, namespace: config.namespace ?? '(all)' });
    const reconciler = new RunReconciler({
      cluster, identity: config.identity, metrics: this.metrics, log,
      spans: new TracerSpanSink(telemetry.tracer, telemetry.ids),
    });
    this.queue.start((key) => reconciler.reconcile(key));
    for (const key of cluster.runKeys()) this.queue.add(key);
    const stacks = new StackReconciler({ cluster: stackCluster, profile: config.serving, metrics: this.metrics, log });
    this.stackQueue.start((key) => stacks.reconcile(key));
    for (const key of stackCluster.stackKeys()) this.stackQueue.add(key);
    this.resync = setInterval(() => {
      cluster.runKeys().forEach((k) => this.queue.add(k));
      stackCluster.stackKeys().forEach((k) => this.stackQueue.add(k));
    }, RESYNC_INTERVAL_MS);
    this.resync.unref();
  }

  private async stopWork(): Promise<void> {
    this.leading = false;
    if (this.resync) clearInterval(this.resync);
    await Promise.all([this.queue.stop(), this.stackQueue.stop()]);
    await Promise.all([this.cluster?.stop(), this.stackCluster?.stop()]);
  }
}
