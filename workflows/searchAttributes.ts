/**
 * Custom search attributes on every workflow, so ops can find a workspace's runs in the Temporal
 * UI (`WorkspaceId = "…"`). Values are opaque ids and vendor names: never personal data.
 * The dev server registers them at start (`dev/stack.ts`); a production namespace registers
 * them once with `temporal operator search-attribute create` (README).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const WorkspaceIdKey = defineSearchAttributeKey('WorkspaceId', SearchAttributeType.KEYWORD);
export const IntegrationIdKey = defineSearchAttributeKey('IntegrationId', SearchAttributeType.KEYWORD);
export const VendorKey = defineSearchAttributeKey('Vendor', SearchAttributeType.KEYWORD);
export const ProcessKey = defineSearchAttributeKey('Process', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [WorkspaceIdKey, IntegrationIdKey, VendorKey, ProcessKey] as const;

/** The search attributes a starter (API, parent workflow) sets on an integration run. */
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
