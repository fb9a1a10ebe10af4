// fslm's Grafana dashboard as code (@grafana/grafana-foundation-sdk): a stack row (whole-request latency,
// throughput by outcome, in flight, errors by code) and a stage row whose every panel has one series per
// stage (latency p50/p95/p99, time to first token, time per output token, tokens/s, in flight, errors by
// code, retries, hand-off gap). `scripts/gen-dashboard` writes it to deploy/grafana/fslm-dashboard.json.
//
// Metric names are what the OpenTelemetry Prometheus exporter makes of services/stage/src/stage-metrics.ts
// and services/router/src/router-metrics.ts. Stage metrics carry `fslm_stage`; the stack they serve is the
// target label `fslm_stack` that the scrape configuration (deploy/prometheus/) attaches. Router metrics
// carry both labels themselves.
import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The dashboard's stable uid (its URL in Grafana). */
export const DASHBOARD_UID = 'fslm-stack';
/** Which label a panel's series must carry: one series per stage, or per stack. */
export type PanelScope = 'stage' | 'stack';

const DS = { type: 'prometheus', uid: '${datasource}' };
const STACK = 'fslm_stack=~"$stack"';
const QUANTILES = [0.5, 0.95, 0.99] as const;
const WIDTH = 8;
const HEIGHT = 8;

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  scope: PanelScope;
  targets: Array<{ expr: string; legend: string }>;
}

/** p50/p95/p99 of a seconds histogram, one series per `by` group. */
function quantiles(metric: string, by: string, legend: string): PanelSpec['targets'] {
  return QUANTILES.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket{${STACK}}[$__rate_interval])))`,
    legend: `${legend} p${Math.round(q * 100)}`,
  }));
}

const STAGE_BY = 'fslm_stack, fslm_stage';
const STAGE_LEGEND = '{{fslm_stack}}/{{fslm_stage}}';

/** The stack row's panels. */
export const STACK_PANELS: PanelSpec[] = [
  {
    title: 'Stack request latency', unit: 's', scope: 'stack',
    description: 'Whole-stack latency at the router, request to final answer (fslm.router.request.duration).',
    targets: quantiles('fslm_router_request_duration', 'fslm_stack', '{{fslm_stack}}'),
  },
  {
    title: 'Stack requests/s by outcome', unit: 'reqps', scope: 'stack',
    description: 'Requests finished per second at the router, by outcome (OK or an fslm error code).',
    targets: [{ expr: `sum by (fslm_stack, outcome) (rate(fslm_router_request_duration_count{${STACK}}[$__rate_interval]))`, legend: '{{fslm_stack}} {{outcome}}' }],
  },
  {
    title: 'Stack requests in flight', unit: 'short', scope: 'stack',
    description: 'Requests the routers are running now.',
    targets: [{ expr: `sum by (fslm_stack) (fslm_router_requests_in_flight{${STACK}})`, legend: '{{fslm_stack}}' }],
  },
  {
    title: 'Stack errors by code', unit: 'short', scope: 'stack',
    description: 'Requests that failed or were refused at the router, by fslm error code.',
    targets: [{ expr: `sum by (fslm_stack, code) (increase(fslm_router_errors_total{${STACK}}[$__rate_interval]))`, legend: '{{fslm_stack}} {{code}}' }],
  },
];

/** The stage row's panels: every one has a series per stage. */
export const STAGE_PANELS: PanelSpec[] = [
  {
    title: 'Stage request latency', unit: 's', scope: 'stage',
    description: 'Each stage\'s latency, arrival at the replica to its result (gen_ai.server.request.duration), both doors.',
    targets: quantiles('gen_ai_server_request_duration', STAGE_BY, STAGE_LEGEND),
  },
  {
    title: 'Time to first token', unit: 's', scope: 'stage',
    description: 'Arrival at the replica to the first generated token (gen_ai.server.time_to_first_token).',
    targets: quantiles('gen_ai_server_time_to_first_token', STAGE_BY, STAGE_LEGEND),
  },
  {
    title: 'Time per output token', unit: 's', scope: 'stage',
    description: 'Decode time per output token after the first (gen_ai.server.time_per_output_token).',
    targets: quantiles('gen_ai_server_time_per_output_token', STAGE_BY, STAGE_LEGEND),
  },
  {
    title: 'Tokens/s', unit: 'short', scope: 'stage',
    description: 'Output tokens per second: all replicas of a stage together, and the median request.',
    targets: [
      { expr: `sum by (${STAGE_BY}) (rate(fslm_stage_output_tokens_total{${STACK}}[$__rate_interval]))`, legend: `${STAGE_LEGEND} total` },
      { expr: `histogram_quantile(0.5, sum by (le, ${STAGE_BY}) (rate(fslm_stage_tokens_per_second_bucket{${STACK}}[$__rate_interval])))`, legend: `${STAGE_LEGEND} per request p50` },
    ],
  },
  {
    title: 'Stage requests in flight', unit: 'short', scope: 'stage',
    description: 'Requests held by a stage\'s replicas now, both doors.',
    targets: [{ expr: `sum by (${STAGE_BY}) (fslm_stage_requests_in_flight{${STACK}})`, legend: STAGE_LEGEND }],
  },
  {
    title: 'Stage errors by code', unit: 'short', scope: 'stage',
    description: 'Requests a stage failed or refused, by fslm error code (every code is exported from start, at 0).',
    targets: [{ expr: `sum by (${STAGE_BY}, code) (increase(fslm_stage_errors_total{${STACK}}[$__rate_interval]))`, legend: `${STAGE_LEGEND} {{code}}` }],
  },
  {
    title: 'Retries', unit: 'short', scope: 'stage',
    description: 'Stage attempts the router retried on another replica (lost heartbeat, no responders).',
    targets: [{ expr: `sum by (${STAGE_BY}) (increase(fslm_router_stage_retries_total{${STACK}}[$__rate_interval]))`, legend: STAGE_LEGEND }],
  },
  {
    title: 'Hand-off gap', unit: 's', scope: 'stage',
    description: 'From the moment a stage\'s input is complete (the previous stage\'s last token; the request\'s start for the first stage) to its first token, seen by the router.',
    targets: quantiles('fslm_router_handoff_gap', STAGE_BY, STAGE_LEGEND),
  },
  {
    title: 'Stage latency seen by the router', unit: 's', scope: 'stage',
    description: 'Stage start to result at the router: the stage\'s own latency plus NATS and queueing.',
    targets: quantiles('fslm_router_stage_duration', STAGE_BY, STAGE_LEGEND),
  },
];

function panel(spec: PanelSpec, index: number, y: number): PanelBuilder {
  const builder = new PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .min(0)
    .datasource(DS)
    .gridPos({ x: (index % 3) * WIDTH, y: y + Math.floor(index / 3) * HEIGHT, w: WIDTH, h: HEIGHT });
  spec.targets.forEach((t, i) => builder.withTarget(new DataqueryBuilder().expr(t.expr).legendFormat(t.legend).refId(String.fromCharCode(65 + i)).datasource(DS)));
  return builder;
}

/** The dashboard JSON model (what Grafana imports). */
export function fslmDashboard(): object {
  const dashboard = new DashboardBuilder('fslm: stack and per-stage latency')
    .uid(DASHBOARD_UID)
    .description('Per-stage latency of fslm stacks: generated by scripts/gen-dashboard from scripts/dashboard/fslm-dashboard.ts; do not edit the JSON by hand.')
    .tags(['fslm', 'generated'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))
    .withVariable(new QueryVariableBuilder('stack')
      .label('Stack')
      .datasource(DS)
      .query({ query: 'label_values(fslm_router_requests_in_flight, fslm_stack)', refId: 'stack' })
      .definition('label_values(fslm_router_requests_in_flight, fslm_stack)')
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*'));
  let y = 0;
  dashboard.withRow(new RowBuilder('Stack').gridPos({ x: 0, y, w: 24, h: 1 }));
  y += 1;
  STACK_PANELS.forEach((spec, i) => dashboard.withPanel(panel(spec, i, y)));
  y += Math.ceil(STACK_PANELS.length / 3) * HEIGHT;
  dashboard.withRow(new RowBuilder('Stages').gridPos({ x: 0, y, w: 24, h: 1 }));
  y += 1;
  STAGE_PANELS.forEach((spec, i) => dashboard.withPanel(panel(spec, i, y)));
  return dashboard.build();
}

/** The dashboard as the committed file holds it (2-space JSON and a final newline). */
export function fslmDashboardJson(): string {
  return `${JSON.stringify(fslmDashboard(), null, 2)}\n`;
}
