// An informer that never stays down, for the controller and the router's Kubernetes stack source.
// @kubernetes/client-node's ListWatch stops on any error but 410 Gone; this one restarts it with capped
// exponential backoff, and says when its first list is in.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from './errors.ts';

export const DEFAULT_INFORMER_BACKOFF_MS = 500;
export const DEFAULT_INFORMER_MAX_BACKOFF_MS = 30_000;
/** An informer that ran this long without an error starts its backoff from the beginning again. */
const HEALTHY_AFTER_MS = 60_000;

export interface RestartingInformerOptions<T extends KubernetesObject> {
  name: string;
  kubeConfig: KubeConfig;
  /** Watch path, e.g. `/apis/batch/v1/jobs` or `/apis/batch/v1/namespaces/NS/jobs`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** e.g. `involvedObject.kind=Job,reason=FailedCreate` (events) or `metadata.name=x`. */
  fieldSelector?: string;
  onChange: (obj: T, verb: 'add' | 'update' | 'delete') => void;
  onRestart?: (name: string, error: string, delayMs: number) => void;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class RestartingInformer<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly opts: RestartingInformerOptions<T>;
  private stopped = false;
  private delay: number;
  private lastError = 0;
  private timer: NodeJS.Timeout | undefined;
  private markSynced!: () => void;
  /** Resolves once the first list has been stored in the cache. */
  readonly synced: Promise<void>;

  constructor(opts: RestartingInformerOptions<T>) {
    this.opts = opts;
    this.delay = opts.backoffMs ?? DEFAULT_INFORMER_BACKOFF_MS;
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await opts.list();
      // ListWatch stores the items right after this promise settles; let it do so first.
      setImmediate(() => this.markSynced());
      return result;
    };
    this.informer = new ListWatch(opts.path, new Watch(opts.kubeConfig), list, false, opts.labelSelector, opts.fieldSelector);
    this.informer.on('add', (o) => opts.onChange(o, 'add'));
    this.informer.on('update', (o) => opts.onChange(o, 'update'));
    this.informer.on('delete', (o) => opts.onChange(o, 'delete'));
    this.informer.on('error', (err) => this.restart(err));
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.informer.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    const now = Date.now();
    const base = this.opts.backoffMs ?? DEFAULT_INFORMER_BACKOFF_MS;
    if (now - this.lastError > HEALTHY_AFTER_MS) this.delay = base;
    this.lastError = now;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, this.opts.maxBackoffMs ?? DEFAULT_INFORMER_MAX_BACKOFF_MS);
    this.opts.onRestart?.(this.opts.name, errorMessage(err), delay);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.informer.start().catch((e) => this.restart(e));
    }, delay);
  }
}
