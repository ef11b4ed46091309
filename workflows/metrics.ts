/**
 * The metrics workflows emit through the SDK's workflow meter (served with Core's and the
 * activities' at `METRICS_WORKER_ADDRESS`). The SDK drops them while replaying, so each is counted
 * once per event however often the history is replayed. Tags are bounded values (vendor row,
 * outcome, cause), never ids.
 */
import type { MetricTags } from '@temporalio/common';
import { metricMeter } from '@temporalio/workflow';

/** Full metric name → what one unit is. */
export const WORKFLOW_METRICS = {
  integrations_rate_limit_waits: 'vendor rate limits waited out, by vendor',
  integrations_syncs: 'sync runs finished, by vendor, outcome (completed, failed) and failure type',
  integrations_reauthorizations_required:
    'integrations that moved from connected to reauthorization required, by vendor and cause',
} as const;

export type WorkflowMetric = keyof typeof WORKFLOW_METRICS;

export function countWorkflowMetric(name: WorkflowMetric, tags: MetricTags): void {
  metricMeter.createCounter(name, '1', WORKFLOW_METRICS[name]).add(1, tags);
}
