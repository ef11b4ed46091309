import { upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { ProcessName } from './definitions';
import { integrationSearchAttributes, WorkspaceIdKey } from './searchAttributes';

interface RunIdentity {
  workspaceId: string;
  integrationId?: string;
  vendor?: string;
  process: ProcessName;
}

/**
 * A non-sensitive memo on every integration run. Search attributes are set by the starter
 * (`integrationSearchAttributes`) so they are indexed from the first event.
 */
export function tagRun(run: RunIdentity): void {
  upsertMemo({ summary: `${run.process}${run.vendor ? ` ${run.vendor}` : ''}` });
}

/** Children inherit the indexing of their parent: set when the parent run was started with them. */
export function childSearchAttributes(run: RunIdentity): { typedSearchAttributes?: SearchAttributePair[] } {
  return workflowInfo().typedSearchAttributes.get(WorkspaceIdKey) === undefined
    ? {}
    : { typedSearchAttributes: integrationSearchAttributes(run) };
}
