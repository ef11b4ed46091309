/**
 * What activities log and count, through the SDK: `Context.current().log` (its entries carry the
 * workflow and run ids, activity type and task queue; the worker's runtime logger scrubs them at
 * source, T25) and `Context.current().metricMeter` (served with Core's metrics for Prometheus).
 * Outside an activity (benchmarks, connector tests) both are silent. Metric tags are bounded
 * values (vendor row, outcome, failure type), never ids of customers or their data.
 */
import { Context } from '@temporalio/activity';
import { noopMetricMeter, type LogMetadata, type MetricMeter, type MetricTags } from '@temporalio/common';

/** The application metrics of the worker: name → what one unit is. */
export const ACTIVITY_METRICS = {
  records_synced: 'records committed to the cache by a sync page (upserted or deleted)',
  vendor_calls: 'vendor calls through the audited path, by vendor and outcome',
  token_refresh_failures: 'failed OAuth token refreshes, by vendor and failure type',
  secret_rotations: 'secret rotation steps finished, by outcome',
  purges: 'final purges of disconnected integrations',
  vendor_budget_degraded: 'vendor calls budgeted by the local share because the shared budget store was unreachable',
} as const;

export type ActivityMetric = keyof typeof ACTIVITY_METRICS;

/** Every metric of ours is named `integrations_<name>`, apart from Core's `temporal_*` on the same endpoint. */
export const metricName = (name: string): string => `integrations_${name}`;

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

const meter = (): MetricMeter => currentContext()?.metricMeter ?? noopMetricMeter;

export function countActivityMetric(name: ActivityMetric, value: number, tags: MetricTags): void {
  meter().createCounter(metricName(name), '1', ACTIVITY_METRICS[name]).add(value, tags);
}

/** Ids that say which workspace, integration and vendor an entry is about (all opaque ids, no personal data). */
export interface LogSubject {
  workspaceId: string;
  integrationId?: string;
  vendor?: string;
}

/**
 * Logs with the subject's ids picked one by one: callers pass richer objects (a connector context
 * holds the credential), and only these ids may leave them.
 */
export function logActivity(level: 'info' | 'warn', message: string, subject: LogSubject, meta?: LogMetadata): void {
  const { workspaceId, integrationId, vendor } = subject;
  currentContext()?.log[level](message, { workspaceId, integrationId, vendor, ...meta });
}
