import { metricsBetween, parseWorkerMetrics } from '../../dev/workerMetrics';

/** Prometheus text exposition as the SDK's Core runtime serves it: prefixed names, one line per label set. */
const EXPOSITION = `# HELP temporal_sticky_cache_hit Count of times the workflow cache was used for a new workflow task
# TYPE temporal_sticky_cache_hit counter
temporal_sticky_cache_hit{namespace="default",service_name="temporal-core-sdk",task_queue="q",workflow_type="integrationLifecycleWorkflow"} 40
temporal_sticky_cache_hit{namespace="default",service_name="temporal-core-sdk",task_queue="q",workflow_type="syncWorkflow"} 2
temporal_sticky_cache_miss_total{namespace="default",task_queue="q"} 3
# TYPE temporal_sticky_cache_size gauge
temporal_sticky_cache_size{namespace="default",task_queue="q"} 17
temporal_workflow_task_execution_latency_bucket{le="100"} 5
temporal_workflow_task_execution_latency_count{namespace="default",workflow_type="syncWorkflow"} 9
temporal_workflow_task_execution_latency_count{namespace="default",workflow_type="integrationLifecycleWorkflow"} 11
temporal_sticky_cache_hit_rate_unrelated 99
`;

describe('worker metrics (bench:scale)', () => {
  it('sums each metric over its label sets, with or without the prefix and _total, ignoring others', () => {
    expect(parseWorkerMetrics(EXPOSITION)).toEqual({
      cacheHits: 42,
      cacheMisses: 3,
      cacheSize: 17,
      cacheForcedEvictions: 0,
      workflowTasks: 20,
    });
  });

  it('reads a metric that is absent as 0 and skips malformed lines', () => {
    expect(parseWorkerMetrics('garbage line\ntemporal_sticky_cache_hit NaN\n')).toEqual({
      cacheHits: 0,
      cacheMisses: 0,
      cacheSize: 0,
      cacheForcedEvictions: 0,
      workflowTasks: 0,
    });
  });

  it('takes counters as differences and the cache size as its later value', () => {
    const before = parseWorkerMetrics(EXPOSITION);
    const after = { ...before, cacheHits: 50, cacheSize: 30, workflowTasks: 25 };
    expect(metricsBetween(before, after)).toEqual({
      cacheHits: 8,
      cacheMisses: 0,
      cacheSize: 30,
      cacheForcedEvictions: 0,
      workflowTasks: 5,
    });
  });
});
