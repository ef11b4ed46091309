/**
 * Task-queue priority and fairness of integration runs (workflow-safe: types and plain data only).
 *
 * Temporal dispatches a backlogged task queue by `priorityKey` first (1 runs first), then shares
 * dispatch between `fairnessKey`s in proportion to their weight. Our fairness key is the workspace:
 * one workspace's backlog (a million-record sync, a hundred integrations polled at once) takes its
 * share of the workers, not all of them, so another workspace's small sync is not queued behind it.
 * Activities and children inherit their workflow's priority; a child sets its own key where the
 * reason for the run differs (a scheduled poll versus "sync now"). The server must have priority and
 * fairness enabled (`docs/benchmarks.md`, "Fairness between workspaces"); without it both are ignored.
 */
import type { Priority } from '@temporalio/common';
import type { ProcessName, SyncReason } from './definitions';

/**
 * Priority keys. The server's range is 1–5 by default, 3 when unset; lower runs first.
 * - interactive: a person waits on the answer (connect, "sync now", disconnect, a data-out action, the picker);
 * - event: the vendor told us something changed (webhook, resync after a lost subscription), and the
 *   long-lived runs whose own work is timed (lifecycle, rotation, workspace deletion);
 * - scheduled: polling at the customer's cadence, where a few seconds more change nothing.
 */
export const PRIORITY_KEYS = { interactive: 1, event: 3, scheduled: 4 } as const;

export type PriorityClass = keyof typeof PRIORITY_KEYS;

const PROCESS_PRIORITY: Record<ProcessName, PriorityClass> = {
  connect: 'interactive',
  disconnect: 'interactive',
  action: 'interactive',
  choices: 'interactive',
  sync: 'interactive',
  lifecycle: 'event',
  rotate: 'event',
  purge: 'event',
  'workspace-delete': 'event',
};

const SYNC_PRIORITY: Record<SyncReason, PriorityClass> = {
  admin: 'interactive',
  connect: 'interactive',
  webhook: 'event',
  resync: 'event',
  schedule: 'scheduled',
};

/** The priority of a run of `process` for a workspace: its class, and the workspace as fairness key. */
export function runPriority(workspaceId: string, process: ProcessName): Priority {
  return { priorityKey: PRIORITY_KEYS[PROCESS_PRIORITY[process]], fairnessKey: fairnessKey(workspaceId) };
}

/** The priority of a sync by why it runs: "sync now" and the first sync at connect before polling. */
export function syncPriority(workspaceId: string, reason: SyncReason): Priority {
  return { priorityKey: PRIORITY_KEYS[SYNC_PRIORITY[reason]], fairnessKey: fairnessKey(workspaceId) };
}

/** Workspace ids are UUIDs (36 bytes), within the server's 64-byte limit; lower case, as ids are compared. */
function fairnessKey(workspaceId: string): string {
  return workspaceId.toLowerCase();
}
