// The NetworkPolicies of a Stack (pure; owned by the Stack like its other children). Stage pods may
// connect only to the NATS servers and DNS (plus the model store the Stack names for its fetch step,
// and the trace collector the controller names), and accept connections only on their metrics port
// from the metrics scrapers. The router may connect to NATS, DNS, the Kubernetes API server (it reads
// its Stack) and the collector, and accepts its clients on its gRPC and HTTP ports (anyone, or the
// peers spec.networkPolicy.routerClients names) and the scrapers on its HTTP port (/metrics).
// Kubelet probes are not subject to NetworkPolicy. Enforcement is the CNI plugin's: without one that
// implements NetworkPolicy these objects change nothing.
import type { KubernetesObject, V1LabelSelector, V1NetworkPolicyEgressRule, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { Stack, StackNetworkPeer } from './stack-types.ts';
import { childName } from './stack-serving.ts';
import { StackLabel } from './stack-types.ts';

/** Where the cluster's NATS servers, scrapers, API server and collector are, from `fslm controller` flags. */
export interface NetworkProfile {
  /** Render NetworkPolicies for Stacks (a Stack may still turn its own off). */
  enabled: boolean;
  /** The NATS servers' namespace and pod labels. */
  natsNamespace: string;
  natsPodLabels: Record<string, string>;
  /** Who scrapes metrics when a Stack names nobody: pods in namespaces with these labels. */
  scraperNamespaceLabels: Record<string, string>;
  /** The API server's addresses (the router's egress on 443 and 6443). */
  apiServerCidrs: string[];
  /**
   * The trace collector of stages and routers: its OTLP/HTTP URL (their OTEL_EXPORTER_OTLP_ENDPOINT) and
   * its pods (namespace, labels; egress to the URL's port).
   */
  collector?: { url: string; namespace: string; podLabels: Record<string, string> };
}

export const DEFAULT_NETWORK: NetworkProfile = {
  enabled: true,
  natsNamespace: 'fslm-system',
  natsPodLabels: { 'app.kubernetes.io/name': 'nats' },
  scraperNamespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
  apiServerCidrs: ['0.0.0.0/0'],
};

/** The label every namespace carries with its own name (Kubernetes 1.22+). */
const NAMESPACE_NAME = 'kubernetes.io/metadata.name';
const API_SERVER_PORTS = [443, 6443];
const DNS_PORT = 53;

/** The client ports of the NATS URLs (`nats://host:port`, comma-separated; 4222 when unset). */
export function natsPorts(natsUrl: string): number[] {
  const ports = natsUrl.split(',').map((u) => {
    const m = /:(\d+)\/?$/.exec(u.trim().replace(/^[a-z]+:\/\//, ''));
    return m ? Number(m[1]) : 4222;
  });
  return [...new Set(ports)];
}

/** The port of an http(s) URL (80 or 443 when it names none). */
export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}

/** The environment that sends a pod's traces to the collector, if there is one. */
export function collectorEnv(network: NetworkProfile | undefined): Array<{ name: string; value: string }> {
  return network?.collector ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: network.collector.url }] : [];
}

/** An ingress rule as the API takes it (client-node's model calls `from` `_from`; these objects are sent as plain JSON). */
export interface IngressRule {
  from?: V1NetworkPolicyPeer[];
  ports: V1NetworkPolicyPort[];
}

/** networking.k8s.io/v1 NetworkPolicy, as plain JSON. */
export interface NetworkPolicy extends KubernetesObject {
  spec: { podSelector: V1LabelSelector; policyTypes: Array<'Ingress' | 'Egress'>; ingress: IngressRule[]; egress: V1NetworkPolicyEgressRule[] };
}

const tcp = (ports: number[]): V1NetworkPolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port }));
const inNamespace = (namespace: string, podLabels: Record<string, string>): V1NetworkPolicyPeer =>
  ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: namespace } }, podSelector: { matchLabels: podLabels } });
const peers = (list: StackNetworkPeer[]): V1NetworkPolicyPeer[] => list.map((p) => ({ ...p }));

/** Egress every fslm pod needs: NATS, DNS (any resolver: cluster DNS may be node-local) and the collector. */
function commonEgress(natsUrl: string, network: NetworkProfile): V1NetworkPolicyEgressRule[] {
  const rules: V1NetworkPolicyEgressRule[] = [
    { to: [inNamespace(network.natsNamespace, network.natsPodLabels)], ports: tcp(natsPorts(natsUrl)) },
    { ports: [{ protocol: 'UDP', port: DNS_PORT }, { protocol: 'TCP', port: DNS_PORT }] },
  ];
  if (network.collector) rules.push({ to: [inNamespace(network.collector.namespace, network.collector.podLabels)], ports: tcp([urlPort(network.collector.url)]) });
  return rules;
}

function policy(stack: Stack, suffix: string, podLabels: Record<string, string>, meta: (name: string) => KubernetesObject['metadata'],
  spec: Pick<NetworkPolicy['spec'], 'ingress' | 'egress'>): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(childName(stack.metadata.name, suffix)),
    spec: { podSelector: { matchLabels: podLabels }, policyTypes: ['Ingress', 'Egress'], ...spec },
  };
}

/**
 * The Stack's two NetworkPolicies (`<stack>-stages`, `<stack>-router`), or none when the controller
 * or the Stack turns them off. `meta(name)` gives each its metadata (labels, owner); ports are the
 * pods' container ports.
 */
export function networkPolicies(stack: Stack, natsUrl: string, network: NetworkProfile,
  ports: { stageMetrics: number; routerGrpc: number; routerHttp: number }, meta: (name: string) => KubernetesObject['metadata']): NetworkPolicy[] {
  const spec = stack.spec.networkPolicy ?? {};
  if (!network.enabled || spec.enabled === false) return [];
  const name = stack.metadata.name;
  const scrapers = spec.metricsScrapers ? peers(spec.metricsScrapers) : [{ namespaceSelector: { matchLabels: network.scraperNamespaceLabels } }];
  const store = spec.modelStore ? [{ to: peers(spec.modelStore.to), ports: tcp(spec.modelStore.ports) }] : [];
  const stages = policy(stack, 'stages', { [StackLabel.Stack]: name, [StackLabel.Component]: 'stage' }, meta, {
    ingress: [{ from: scrapers, ports: tcp([ports.stageMetrics]) }],
    egress: [...commonEgress(natsUrl, network), ...store],
  });
  const router = policy(stack, 'router', { [StackLabel.Stack]: name, [StackLabel.Component]: 'router' }, meta, {
    ingress: [
      // No `from`: any client; otherwise the peers the Stack names.
      { ...(spec.routerClients ? { from: peers(spec.routerClients) } : {}), ports: tcp([ports.routerGrpc, ports.routerHttp]) },
      { from: scrapers, ports: tcp([ports.routerHttp]) },
    ],
    egress: [...commonEgress(natsUrl, network), { to: network.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(API_SERVER_PORTS) }],
  });
  return [stages, router];
}
