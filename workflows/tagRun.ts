import { patched, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributePair, SearchAttributeUpdatePair } from '@temporalio/common';
import type { ProcessName } from './definitions';
import { integrationSearchAttributes, WorkspaceIdKey } from '@trackproject/integrations-client/searchAttributes';

interface RunIdentity {
  workspaceId: string;
  integrationId?: string;
  vendor?: string;
  process: ProcessName;
}

/**
 * Patch id (Temporal versioning) of the search attributes the runs upsert themselves: the identity
 * at the start of every run, and `SyncState` / `LastSyncCompletedAt` / `IntegrationStatus` in the
 * sync and lifecycle workflows. Runs whose history predates it replay without those commands; a
 * lifecycle takes the new shape on its next continue-as-new. Keep it until no such run is open.
 */
export const SEARCH_ATTRIBUTES_PATCH = 'upsert-search-attributes';

/** Upserts search attributes in runs that took the patch; no command at all in runs from before it. */
export interface RunIndex {
  upsert(pairs: SearchAttributeUpdatePair[]): void;
}

/**
 * A non-sensitive memo on every integration run, and its identity search attributes, upserted by
 * the run itself so a run started without them (a backend service calling Temporal directly) is
 * found by `WorkspaceId = "…"` as well. Returns the run's index for later state upserts.
 */
export function tagRun(run: RunIdentity): RunIndex {
  upsertMemo({ summary: `${run.process}${run.vendor ? ` ${run.vendor}` : ''}` });
  const enabled = patched(SEARCH_ATTRIBUTES_PATCH);
  const index: RunIndex = {
    upsert(pairs) {
      const changed = pairs.filter(
        (pair) => !sameValue(workflowInfo().typedSearchAttributes.get(pair.key), pair.value),
      );
      if (enabled && changed.length > 0) upsertSearchAttributes(changed);
    },
  };
  index.upsert(integrationSearchAttributes(run));
  return index;
}

function sameValue(current: unknown, next: unknown): boolean {
  if (current instanceof Date && next instanceof Date) return current.getTime() === next.getTime();
  return current === next;
}

/** Children inherit the indexing of their parent: set when the parent run was started with them. */
export function childSearchAttributes(run: RunIdentity): { typedSearchAttributes?: SearchAttributePair[] } {
  return workflowInfo().typedSearchAttributes.get(WorkspaceIdKey) === undefined
    ? {}
    : { typedSearchAttributes: integrationSearchAttributes(run) };
}
