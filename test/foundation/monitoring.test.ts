/**
 * Prometheus and Grafana in docker/compose.yaml, checked offline (no Docker engine here): every
 * file compose mounts exists, Prometheus scrapes the ports the worker and the API serve metrics on,
 * the alert rules and the dashboard have the structure Prometheus and Grafana load, every alert
 * links to its runbook section, and every metric they query is one the code emits: ours, derived
 * from where the metrics are defined, and Temporal Core's, which test/workflows/telemetry-metrics
 * finds on a real worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createApiMetrics } from '../../api/metrics';
import { ACTIVITY_METRICS, metricName } from '../../activities/telemetry';
import { WORKFLOW_METRICS } from '../../workflows/metrics';
import { CORE_METRICS_QUERIED, HISTOGRAM_SUFFIXES } from '../support/coreMetrics';

const ROOT = path.resolve(__dirname, '../..');
const DOCKER = path.join(ROOT, 'docker');

interface Service {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
}
const compose = parse(fs.readFileSync(path.join(DOCKER, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

/** A bind mount's host file (relative to docker/) and its path in the container. */
function bindMounts(service: Service): Array<{ source: string; target: string }> {
  return (service.volumes ?? [])
    .filter((volume) => volume.startsWith('./'))
    .map((volume) => {
      const [source, target] = volume.split(':');
      return { source: path.join(DOCKER, source!), target: target! };
    });
}

/** The host file mounted at `containerPath` (a file mount, or a file inside a mounted folder). */
function mountedFile(service: Service, containerPath: string): string | undefined {
  for (const { source, target } of bindMounts(service)) {
    if (containerPath === target) return source;
    if (containerPath.startsWith(`${target}/`)) return path.join(source, containerPath.slice(target.length + 1));
  }
  return undefined;
}

const readYaml = (file: string): unknown => parse(fs.readFileSync(file, 'utf8'));
const prometheus = compose.services.prometheus!;
const grafana = compose.services.grafana!;

interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
}
const prometheusConfig = readYaml(mountedFile(prometheus, '/etc/prometheus/prometheus.yml')!) as PrometheusConfig;

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; runbook: string };
}
const ruleGroups = prometheusConfig.rule_files.flatMap(
  (file) =>
    (readYaml(mountedFile(prometheus, file)!) as { groups: Array<{ name: string; rules: AlertRule[] }> }).groups,
);
const alerts = ruleGroups.flatMap((group) => group.rules);

interface Dashboard {
  uid: string;
  title: string;
  panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
  templating: { list: Array<{ datasource: { uid: string }; query: { query: string } }> };
}
const provisioning = (dir: string) =>
  fs
    .readdirSync(mountedFile(grafana, `/etc/grafana/provisioning/${dir}`)!)
    .map((file) => readYaml(path.join(mountedFile(grafana, `/etc/grafana/provisioning/${dir}`)!, file)));
const datasources = provisioning('datasources').flatMap(
  (file) => (file as { datasources: Array<{ uid: string; url: string }> }).datasources,
);
const dashboardFiles = provisioning('dashboards')
  .flatMap((file) => (file as { providers: Array<{ options: { path: string } }> }).providers)
  .flatMap((provider) => {
    const dir = mountedFile(grafana, provider.options.path)!;
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(dir, f));
  });
const dashboards = dashboardFiles.map((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as Dashboard);

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers, ranges
 * and grouping clauses are removed, and identifiers called as functions are skipped.
 */
function queriedMetrics(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[a-zA-Z_:][\w:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index! + m[0].length)) && !PROMQL_KEYWORDS.has(m[0]))
    .map((m) => m[0]);
}

async function emittedMetrics(): Promise<Set<string>> {
  const api = await createApiMetrics().registry.getMetricsAsJSON();
  return new Set([
    ...Object.keys(ACTIVITY_METRICS).map(metricName),
    ...Object.keys(WORKFLOW_METRICS),
    ...api.map((metric) => metric.name),
    ...CORE_METRICS_QUERIED,
    'up', // written by Prometheus for every scrape target
  ]);
}

const isEmitted = (name: string, emitted: Set<string>): boolean =>
  emitted.has(name) ||
  HISTOGRAM_SUFFIXES.some((suffix) => name.endsWith(suffix) && emitted.has(name.slice(0, -suffix.length)));

/** Every query of the alert rules and the dashboards (panels and template variables), by where it is. */
const queries: Array<[string, string]> = [
  ...alerts.map((rule): [string, string] => [`alert ${rule.alert}`, rule.expr]),
  ...dashboards.flatMap((dashboard) => [
    ...dashboard.panels.flatMap((panel) =>
      panel.targets.map((t): [string, string] => [`panel ${panel.title}`, t.expr]),
    ),
    ...dashboard.templating.list.map((variable): [string, string] => [
      `variable of ${dashboard.title}`,
      variable.query.query.replace(/^label_values\(([^,]+),.*\)$/, '$1'),
    ]),
  ]),
];

describe('docker/: Prometheus and Grafana', () => {
  it('pins every image tag and mounts only files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) expect([name, service.image]).toEqual([name, expect.stringMatching(/:(?!latest$)[\w.-]+$/)]);
      for (const { source } of bindMounts(service))
        expect([name, source, fs.existsSync(source)]).toEqual([name, source, true]);
    }
    expect(bindMounts(prometheus).length).toBeGreaterThan(0);
    expect(bindMounts(grafana).length).toBeGreaterThan(0);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['prometheus-data', 'grafana-data']));
  });

  it('Prometheus scrapes the metrics ports the worker and the API listen on', () => {
    const port = (service: string, variable: string) =>
      compose.services[service]!.environment![variable]!.split(':').pop();
    const targets = Object.fromEntries(
      prometheusConfig.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
    );
    expect(targets).toEqual({
      worker: [`worker:${port('worker', 'METRICS_WORKER_ADDRESS')}`],
      api: [`api:${port('api', 'METRICS_API_ADDRESS')}`],
    });
    // The metrics listeners stay on the compose network: the worker publishes no port, the API only its own.
    expect(compose.services.worker).not.toHaveProperty('ports');
    expect((compose.services.api as { ports?: string[] }).ports).toEqual(['3000:3000']);
  });

  it('alert rules: sync failing repeatedly, reauthorization needed and worker backlog, each with a severity and its runbook section', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['SyncFailingRepeatedly', 'ReauthorizationRequired', 'WorkerBacklog']),
    );
    const runbook = fs.readFileSync(path.join(ROOT, 'docs/runbook.md'), 'utf8');
    const anchors = new Set(
      [...runbook.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const rule of alerts) {
      expect([rule.alert, rule.expr.trim().length > 0, rule.labels.severity, rule.annotations.summary]).toEqual([
        rule.alert,
        true,
        expect.stringMatching(/^(page|ticket)$/),
        expect.any(String),
      ]);
      expect(rule.annotations.runbook).toBe(`docs/runbook.md#${rule.alert.toLowerCase()}`);
      expect([rule.alert, anchors.has(rule.alert.toLowerCase())]).toEqual([rule.alert, true]);
      if (rule.for) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('Grafana provisions the Prometheus datasource and a dashboard with the ops panels, all on that datasource', () => {
    expect(datasources).toEqual([expect.objectContaining({ uid: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(dashboards.map((d) => d.uid)).toEqual(['trackproject-integrations']);
    const [dashboard] = dashboards;
    expect(dashboard!.panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Syncs per vendor',
        'Records synced per second',
        'Vendor call errors',
        'Vendor 429s and rate-limit waits',
        'Schedule-to-start latency (p95)',
        'Worker task slots',
        'Webhook refusals',
      ]),
    );
    for (const panel of dashboard!.panels) {
      expect([panel.title, panel.datasource.uid, panel.targets.length > 0]).toEqual([panel.title, 'prometheus', true]);
    }
  });

  it('reads metric names out of PromQL (a misspelt name is caught)', async () => {
    expect(
      queriedMetrics(
        'histogram_quantile(0.95, sum by (le, vendor) (rate(integrations_x_bucket{a="b(c)"}[5m]))) > 1 or up == 0',
      ),
    ).toEqual(['integrations_x_bucket', 'up']);
    const emitted = await emittedMetrics();
    expect(isEmitted('integrations_records_synced', emitted)).toBe(true);
    expect(isEmitted('integrations_api_request_duration_seconds_bucket', emitted)).toBe(true);
    expect(isEmitted('integrations_record_synced', emitted)).toBe(false);
    expect(isEmitted('temporal_workflow_failed', emitted)).toBe(false); // Core's, but not one verified on a worker
  });

  it('T25 metrics: every metric the alert rules and the dashboard query is one the service emits', async () => {
    const emitted = await emittedMetrics();
    expect(queries.length).toBeGreaterThan(10);
    for (const [where, expr] of queries) {
      const names = queriedMetrics(expr);
      expect([where, names.length > 0]).toEqual([where, true]);
      expect([where, names.filter((name) => !isEmitted(name, emitted))]).toEqual([where, []]);
    }
  });
});
