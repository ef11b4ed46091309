/**
 * Custom search attributes ops filter on in the Temporal UI (`WorkspaceId = "…"`,
 * `SyncState = "failed"`). Values are opaque ids, vendor names, states and times: never personal
 * data. The dev server registers them at start (`dev/stack.ts`), the compose setup job on its
 * cluster; a production namespace registers them once with `temporal operator search-attribute
 * create`, on Temporal Cloud with `tcld` (docs/temporal-cloud.md). Every run upserts its identity itself (`tagRun`), so a run a backend service
 * starts directly carries it too; the sync and lifecycle workflows keep the state ones current.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const WorkspaceIdKey = defineSearchAttributeKey('WorkspaceId', SearchAttributeType.KEYWORD);
export const IntegrationIdKey = defineSearchAttributeKey('IntegrationId', SearchAttributeType.KEYWORD);
export const VendorKey = defineSearchAttributeKey('Vendor', SearchAttributeType.KEYWORD);
export const ProcessKey = defineSearchAttributeKey('Process', SearchAttributeType.KEYWORD);
/** The sync of a sync run, or the last sync a lifecycle started: one of `SyncStateValue`. */
export const SyncStateKey = defineSearchAttributeKey('SyncState', SearchAttributeType.KEYWORD);
/** When the last sync of the integration completed. */
export const LastSyncCompletedAtKey = defineSearchAttributeKey('LastSyncCompletedAt', SearchAttributeType.DATETIME);
/** The lifecycle's integration status (`connected`, `reauthorization-required`). */
export const IntegrationStatusKey = defineSearchAttributeKey('IntegrationStatus', SearchAttributeType.KEYWORD);

export type SyncStateValue = 'running' | 'waiting-rate-limit' | 'failed' | 'completed';

export const SEARCH_ATTRIBUTE_KEYS = [
  WorkspaceIdKey,
  IntegrationIdKey,
  VendorKey,
  ProcessKey,
  SyncStateKey,
  LastSyncCompletedAtKey,
  IntegrationStatusKey,
] as const;

/** The type names `temporal operator search-attribute create --type` and `start-dev --search-attribute` take. */
export const CLI_TYPE_NAMES: Record<(typeof SEARCH_ATTRIBUTE_KEYS)[number]['type'], string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.DATETIME]: 'Datetime',
};

/** The search attributes that say whose run it is: set by starters and upserted by the run itself. */
export function integrationSearchAttributes(run: {
  workspaceId: string;
  integrationId?: string;
  vendor?: string;
  process: string;
}): SearchAttributePair[] {
  return [
    { key: WorkspaceIdKey, value: run.workspaceId },
    ...(run.integrationId ? [{ key: IntegrationIdKey, value: run.integrationId }] : []),
    ...(run.vendor ? [{ key: VendorKey, value: run.vendor }] : []),
    { key: ProcessKey, value: run.process },
  ];
}
