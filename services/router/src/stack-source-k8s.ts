// Stacks from the Kubernetes API: the router serves the Stack objects it is told to (by name, or by
// label selector) in one namespace, and follows them as they change, with no restart: each version
// is checked like a stack file (the CRD's schema and rules) and replaces the one in the shared map
// that the gRPC and HTTP doors read per request; a deleted Stack stops being served. A version that
// fails the check is logged and the last good one kept.
import { CustomObjectsApi, KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../../shared/errors.ts';
import { RestartingInformer } from '../../shared/k8s-informer.ts';
import { validateStack } from './stack-loader.ts';
import type { StackDefinition } from './types.ts';

const GROUP = 'fslm.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'stacks';

export interface K8sStackSourceOptions {
  /** A kubeconfig file; the in-cluster service account when undefined (or $KUBECONFIG, as client-node reads it). */
  kubeconfig?: string;
  namespace: string;
  /** Serve these Stacks by name... */
  names: readonly string[];
  /** ...or every Stack matching this label selector. */
  labelSelector?: string;
  /** The router's stacks, updated in place. */
  stacks: Map<string, StackDefinition>;
  log: (event: Record<string, unknown>) => void;
}

export class K8sStackSource {
  private readonly informer: RestartingInformer<KubernetesObject>;

  constructor(private readonly opts: K8sStackSourceOptions) {
    const kc = new KubeConfig();
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
    const custom = kc.makeApiClient(CustomObjectsApi);
    // One name is watched alone; several (or a selector) through the namespace's list.
    const fieldSelector = opts.names.length === 1 ? `metadata.name=${opts.names[0]}` : undefined;
    const { namespace, labelSelector } = opts;
    this.informer = new RestartingInformer<KubernetesObject>({
      name: 'stacks', kubeConfig: kc, path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`, labelSelector, fieldSelector,
      list: async () => (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, labelSelector, fieldSelector })) as KubernetesListObject<KubernetesObject>,
      onChange: (obj, verb) => this.onChange(obj, verb),
      onRestart: (_name, error, delayMs) => opts.log({ event: 'stack watch restarting', error, delayMs }),
    });
  }

  private wanted(name: string | undefined): name is string {
    return !!name && (this.opts.names.length === 0 || this.opts.names.includes(name));
  }

  private onChange(obj: KubernetesObject, verb: 'add' | 'update' | 'delete'): void {
    const name = obj.metadata?.name;
    if (!this.wanted(name)) return;
    const source = `stack ${this.opts.namespace}/${name}`;
    if (verb === 'delete') {
      this.opts.stacks.delete(name);
      this.opts.log({ event: 'stack removed', stack: name });
      return;
    }
    try {
      const stack = validateStack(obj, source);
      const known = this.opts.stacks.has(name);
      this.opts.stacks.set(name, { ...stack, source });
      this.opts.log({ event: known ? 'stack updated' : 'stack added', stack: name, generation: obj.metadata?.generation, stages: stack.stages.map((s) => s.name) });
    } catch (error) {
      this.opts.log({ event: 'stack refused; serving the last good version', stack: name, error: errorMessage(error) });
    }
  }

  /** Starts watching; resolves once the first list is in the map. */
  async start(): Promise<void> {
    await this.informer.start();
    await this.informer.synced;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

/** The `--k8s-*` flags of `fslm router`, as parsed. */
export interface K8sSourceFlags {
  k8sNamespace?: string;
  k8sStack?: string[];
  k8sSelector?: string;
  kubeconfig?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A source for the flags, undefined when none is given; throws naming the bad flag. */
export function k8sSource(flags: K8sSourceFlags, stacks: Map<string, StackDefinition>): K8sStackSource | undefined {
  const { k8sNamespace: namespace, k8sStack: names = [], k8sSelector: selector, kubeconfig } = flags;
  if (!namespace && names.length === 0 && !selector && !kubeconfig) return undefined;
  if (!namespace || !DNS_LABEL.test(namespace)) throw new Error('--k8s-namespace NS (a namespace name) is required with --k8s-stack, --k8s-selector and --kubeconfig');
  if ((names.length > 0) === (selector !== undefined)) throw new Error('give either --k8s-stack NAME (repeatable) or --k8s-selector LABELS');
  const bad = names.find((n) => !DNS_LABEL.test(n));
  if (bad !== undefined) throw new Error(`--k8s-stack ${JSON.stringify(bad)} is not a stack name (a lowercase DNS label)`);
  return new K8sStackSource({
    kubeconfig, namespace, names, labelSelector: selector, stacks,
    log: (event) => console.log(JSON.stringify(event)),
  });
}
