/**
 * The Temporal worker's own runtime metrics, read from the Prometheus endpoint the SDK's Core
 * runtime exposes (`Runtime.install({ telemetryOptions: { metrics: { prometheus } } })`), for the
 * benchmarks: workflow cache hits, misses and forced evictions, cache size, workflow tasks executed.
 */

/** Metric names as Core emits them (without the `temporal_` prefix; counters without `_total`). */
export const WORKER_METRICS = {
  cacheHits: 'sticky_cache_hit',
  cacheMisses: 'sticky_cache_miss',
  cacheSize: 'sticky_cache_size',
  cacheForcedEvictions: 'sticky_cache_total_forced_eviction',
  workflowTasks: 'workflow_task_execution_latency_count',
} as const;

export type WorkerMetricName = keyof typeof WORKER_METRICS;
export type WorkerMetrics = Record<WorkerMetricName, number>;

/**
 * Sums each metric over its label sets. Exposition lines are `name{labels} value` or `name value`;
 * a name matches with or without the runtime's prefix and a `_total` suffix.
 */
export function parseWorkerMetrics(exposition: string): WorkerMetrics {
  const sums = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    const name = match[1]!.replace(/^temporal_/, '').replace(/_total$/, '');
    sums.set(name, (sums.get(name) ?? 0) + value);
  }
  const entries = Object.entries(WORKER_METRICS).map(([key, name]) => [key, sums.get(name) ?? 0]);
  return Object.fromEntries(entries) as WorkerMetrics;
}

/** One scrape of the endpoint at `bindAddress` (`host:port`). */
export async function scrapeWorkerMetrics(bindAddress: string): Promise<WorkerMetrics> {
  const response = await fetch(`http://${bindAddress}/metrics`);
  if (!response.ok) throw new Error(`worker metrics endpoint answered ${response.status}`);
  return parseWorkerMetrics(await response.text());
}

/** What changed between two scrapes (the cache size is a gauge: its later value). */
export function metricsBetween(before: WorkerMetrics, after: WorkerMetrics): WorkerMetrics {
  const delta = { ...after };
  for (const key of Object.keys(WORKER_METRICS) as WorkerMetricName[])
    if (key !== 'cacheSize') delta[key] = after[key] - before[key];
  return delta;
}
