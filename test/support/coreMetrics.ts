/**
 * The Temporal Core metrics (`temporal_*`, served at `METRICS_WORKER_ADDRESS` next to ours) that
 * the Grafana dashboard and the Prometheus alert rules query. `test/workflows/telemetry-metrics`
 * checks each against a real worker's endpoint; `test/foundation/docker` checks that the
 * dashboard and rules query no other Core metric. Histograms are in milliseconds (the SDK's
 * default, `useSecondsForDurations: false`) and listed by base name.
 */
export const CORE_METRICS_QUERIED = [
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_activity_execution_failed',
  'temporal_num_pollers',
] as const;

/** Series Prometheus writes for a histogram besides its base name. */
export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
