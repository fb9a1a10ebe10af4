// The controller's configuration: flags of `fslm controller`, plus the few environment variables it
// honours, resolved once into a fully-required shape. The only file here that reads process.env.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { splitHostPort } from '../../shared/address.ts';
import { errorMessage, errors } from '../../shared/errors.ts';
import { telemetryFromEnv } from '../../shared/telemetry.ts';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_LEASE_NAME, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS } from './leader-election.ts';
import { SERVICE_NAME } from './telemetry.ts';
import { DEFAULT_QUEUE_WORKERS } from './work-queue.ts';
import { DEFAULT_IMAGE, DEFAULT_NATS_URL, type ServingProfile } from './stack-serving.ts';
import { DEFAULT_NETWORK, type NetworkProfile } from './stack-network.ts';

export const USAGE = `usage: fslm controller [--kubeconfig FILE] [--namespace NS] [--leader-elect=true|false]
                       [--metrics HOST:PORT] [--otlp URL] [--identity NAME] [--workers N]
                       [--leader-elect-namespace NS] [--lease-duration DUR] [--renew-deadline DUR] [--retry-period DUR]
                       [--image IMAGE] [--image-pull-policy Always|IfNotPresent|Never] [--nats-url URL] [--stage-gpus N]
                       [--network-policies=true|false] [--nats-pods NS/LABELS] [--metrics-scrapers LABELS]
                       [--api-server-cidrs CIDR[,CIDR...]] [--stack-otlp URL --collector-pods NS/LABELS]
  Runs the StackTrainingRun and Stack operator. Stacks run on --image (default ${DEFAULT_IMAGE}) and reach NATS at
  --nats-url (default ${DEFAULT_NATS_URL}); each stage pod takes --stage-gpus nvidia.com/gpu unless its stack says
  otherwise (default 1; 0 on a cluster without GPUs: no GPU request, toleration or one-stage-per-node placement). Without --kubeconfig it uses $KUBECONFIG, then the in-cluster config.
  DUR is a number with ms, s or m, e.g. 15s. --otlp takes an OTLP/HTTP traces URL (default $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  else $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces); $OTEL_SERVICE_NAME overrides the service name.
  Each Stack gets NetworkPolicies (default on): stage and router pods reach the NATS pods --nats-pods (default
  fslm-system/app.kubernetes.io/name=nats) and DNS, the router also the API server at --api-server-cidrs (default
  0.0.0.0/0, ports 443 and 6443); metrics are scraped from namespaces labelled --metrics-scrapers (default
  kubernetes.io/metadata.name=monitoring). --stack-otlp gives stages and routers an OTLP/HTTP endpoint, with egress
  to the collector pods --collector-pods. LABELS: KEY=VALUE[,KEY=VALUE...].`;

export interface ControllerConfig {
  kubeconfig: string | undefined;
  namespace: string | undefined;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  identity: string;
  metrics: { host: string; port: number } | undefined;
  otlpUrl: string | undefined;
  serviceName: string;
  workers: number;
  /** How Stacks are served on this cluster. */
  serving: ServingProfile;
}

export function parseDuration(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

/** Parses argv (without the `controller` word); throws one InvalidArgument naming every bad flag. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ControllerConfig & { help: boolean } {
  const flags = new Map<string, string>();
  const problems: string[] = [];
  let help = false;
  const known = ['kubeconfig', 'namespace', 'leader-elect', 'leader-elect-namespace', 'lease-duration', 'renew-deadline',
    'retry-period', 'identity', 'metrics', 'otlp', 'workers', 'image', 'image-pull-policy', 'nats-url', 'stage-gpus',
    'network-policies', 'nats-pods', 'metrics-scrapers', 'api-server-cidrs', 'stack-otlp', 'collector-pods'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') { help = true; continue; }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) { problems.push(`${arg}: unexpected argument`); continue; }
    const [, name, inline] = m;
    if (!known.includes(name)) problems.push(`--${name}: unknown flag`);
    else if (inline !== undefined) flags.set(name, inline);
    else if (name === 'leader-elect' || name === 'network-policies') flags.set(name, 'true');
    else if (i + 1 < argv.length) flags.set(name, argv[++i]);
    else problems.push(`--${name}: needs a value`);
  }

  const duration = (name: string, dflt: number): number => {
    const v = flags.get(name);
    if (v === undefined) return dflt;
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) problems.push(`--${name}: "${v}" is not a duration like 15s or 500ms`);
    return ms ?? dflt;
  };
  const le = flags.get('leader-elect') ?? 'true';
  if (le !== 'true' && le !== 'false') problems.push(`--leader-elect: "${le}" is not true or false`);
  let metrics: ControllerConfig['metrics'];
  const mv = flags.get('metrics');
  if (mv !== undefined) {
    try {
      // An empty host (":9464") means every interface.
      if (!/:\d+$/.test(mv)) throw new Error(`--metrics must be HOST:PORT, got ${JSON.stringify(mv)}`);
      metrics = splitHostPort(mv.startsWith(':') ? `0.0.0.0${mv}` : mv, '--metrics');
    } catch (e) {
      problems.push(errorMessage(e));
    }
  }
  const fromEnv = telemetryFromEnv(env, SERVICE_NAME);
  const otlp = flags.get('otlp') ?? fromEnv.otlpTracesEndpoint;
  if (otlp !== undefined && !/^https?:\/\//.test(otlp)) problems.push(`--otlp: "${otlp}" is not an http(s) URL`);
  const workers = Number(flags.get('workers') ?? DEFAULT_QUEUE_WORKERS);
  if (!Number.isInteger(workers) || workers < 1) problems.push(`--workers: "${flags.get('workers')}" is not a positive integer`);
  const stageGpus = Number(flags.get('stage-gpus') ?? 1);
  if (!Number.isInteger(stageGpus) || stageGpus < 0) problems.push(`--stage-gpus: "${flags.get('stage-gpus')}" is not a whole number`);
  const pullPolicy = flags.get('image-pull-policy');
  if (pullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pullPolicy)) problems.push(`--image-pull-policy: "${pullPolicy}" is not Always, IfNotPresent or Never`);
  const natsUrl = flags.get('nats-url') ?? DEFAULT_NATS_URL;
  if (!/^(nats|tls):\/\/[^\s]+$/.test(natsUrl)) problems.push(`--nats-url: "${natsUrl}" is not a nats:// or tls:// URL`);
  const image = flags.get('image') ?? DEFAULT_IMAGE;
  if (image.trim() === '' || /\s/.test(image)) problems.push(`--image: "${image}" is not an image reference`);
  const network = networkProfile(flags, problems);
  const cfg: ControllerConfig & { help: boolean } = {
    help,
    kubeconfig: flags.get('kubeconfig') ?? (env.KUBECONFIG || undefined),
    namespace: flags.get('namespace'),
    leaderElect: le !== 'false',
    leaseNamespace: flags.get('leader-elect-namespace') ?? flags.get('namespace') ?? env.POD_NAMESPACE ?? 'default',
    leaseName: DEFAULT_LEASE_NAME,
    leaseDurationMs: duration('lease-duration', DEFAULT_LEASE_DURATION_MS),
    renewDeadlineMs: duration('renew-deadline', DEFAULT_RENEW_DEADLINE_MS),
    retryPeriodMs: duration('retry-period', DEFAULT_RETRY_PERIOD_MS),
    identity: flags.get('identity') ?? env.POD_NAME ?? `${hostname()}_${process.pid}`,
    metrics,
    otlpUrl: otlp,
    serviceName: fromEnv.serviceName,
    workers,
    serving: { image, imagePullPolicy: pullPolicy as ServingProfile['imagePullPolicy'], natsUrl, stageGpus, network },
  };
  if (cfg.renewDeadlineMs >= cfg.leaseDurationMs) problems.push('--renew-deadline: must be shorter than --lease-duration');
  if (cfg.retryPeriodMs >= cfg.renewDeadlineMs) problems.push('--retry-period: must be shorter than --renew-deadline');
  if (problems.length > 0) throw errors.invalidArgument(`fslm controller: ${problems.join('; ')}`);
  return cfg;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** KEY=VALUE[,KEY=VALUE...] as labels; undefined (with a problem named after `flag`) when malformed. */
function labels(flag: string, text: string, problems: string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const m = /^([^=]+)=(.*)$/.exec(pair.trim());
    if (!m || !LABEL_KEY.test(m[1]) || !LABEL_VALUE.test(m[2])) {
      problems.push(`--${flag}: "${pair}" is not a label KEY=VALUE`);
      return undefined;
    }
    out[m[1]] = m[2];
  }
  return out;
}

/** NAMESPACE/KEY=VALUE[,...] as a namespace and pod labels. */
function podsIn(flag: string, text: string, problems: string[]): { namespace: string; podLabels: Record<string, string> } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/(.+)$/.exec(text);
  if (!m) {
    problems.push(`--${flag}: "${text}" is not NAMESPACE/KEY=VALUE[,KEY=VALUE...]`);
    return undefined;
  }
  const podLabels = labels(flag, m[3], problems);
  return podLabels && { namespace: m[1], podLabels };
}

/** The NetworkPolicy settings of Stacks, from their flags (problems are added to `problems`). */
function networkProfile(flags: Map<string, string>, problems: string[]): NetworkProfile {
  const network: NetworkProfile = { ...DEFAULT_NETWORK };
  const enabled = flags.get('network-policies') ?? 'true';
  if (enabled !== 'true' && enabled !== 'false') problems.push(`--network-policies: "${enabled}" is not true or false`);
  network.enabled = enabled !== 'false';
  const nats = flags.get('nats-pods');
  if (nats !== undefined) {
    const pods = podsIn('nats-pods', nats, problems);
    if (pods) Object.assign(network, { natsNamespace: pods.namespace, natsPodLabels: pods.podLabels });
  }
  const scrapers = flags.get('metrics-scrapers');
  if (scrapers !== undefined) network.scraperNamespaceLabels = labels('metrics-scrapers', scrapers, problems) ?? network.scraperNamespaceLabels;
  const cidrs = flags.get('api-server-cidrs');
  if (cidrs !== undefined) {
    network.apiServerCidrs = cidrs.split(',').map((c) => c.trim());
    for (const c of network.apiServerCidrs) if (!isCidr(c)) problems.push(`--api-server-cidrs: "${c}" is not a CIDR like 10.0.0.1/32`);
  }
  const otlp = flags.get('stack-otlp');
  const collector = flags.get('collector-pods');
  if ((otlp === undefined) !== (collector === undefined)) problems.push('--stack-otlp and --collector-pods go together');
  else if (otlp !== undefined && collector !== undefined) {
    if (!/^https?:\/\/[^\s/]+/.test(otlp)) problems.push(`--stack-otlp: "${otlp}" is not an http(s) URL`);
    const pods = podsIn('collector-pods', collector, problems);
    if (pods) network.collector = { url: otlp, ...pods };
  }
  return network;
}

function isCidr(text: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(text);
  if (!m) return false;
  const v = isIP(m[1]);
  return v !== 0 && Number(m[2]) <= (v === 4 ? 32 : 128);
}
