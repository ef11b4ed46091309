/** Graph delta queries: one page from a stored next/delta link or from the start of a round. */
import type { ConnectorContext, SourceRecord } from '../types';
import { microsoftDescriptors, type MicrosoftVendorId } from './descriptor';
import { refused } from './guards';
import type { MicrosoftPlatform } from './platform';

export interface DeltaPage {
  records: SourceRecord[];
  deletedExternalIds: string[];
  nextLink?: string;
  deltaLink?: string;
}

interface GraphDeltaResponse {
  value?: Record<string, unknown>[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/**
 * `link` must belong to the start path; `startPath` runs inside the audited call, so refusals are
 * audited too. `externalIdPrefix` makes ids unique where Graph's are unique per drive only.
 */
export async function deltaPage(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  vendor: MicrosoftVendorId,
  resource: string,
  link: string | null,
  startPath: () => string,
  externalIdPrefix = '',
): Promise<DeltaPage> {
  let path = '';
  const page = await platform.graphCall(
    ctx,
    { action: `delta.${resource}`, scope: microsoftDescriptors[vendor].scopes.required[0]! },
    (client) => client.api(path).get() as Promise<GraphDeltaResponse>,
    () => {
      const start = startPath();
      if (link) assertLinkFor(platform, vendor, link, start);
      path = link ?? start;
    },
  );
  const records: SourceRecord[] = [];
  const deletedExternalIds: string[] = [];
  for (const item of page.value ?? []) {
    const externalId = `${externalIdPrefix}${String(item.id)}`;
    // driveItem deletions carry a `deleted` facet; events and directory objects `@removed`.
    if (item.deleted || item['@removed']) deletedExternalIds.push(externalId);
    else records.push({ resource, externalId, version: versionOf(item), payload: item });
  }
  return { records, deletedExternalIds, nextLink: page['@odata.nextLink'], deltaLink: page['@odata.deltaLink'] };
}

/** A stored cursor must be a Graph link for the same resource: tokens never go anywhere else. */
function assertLinkFor(platform: MicrosoftPlatform, vendor: MicrosoftVendorId, link: string, startPath: string): void {
  const expectedPrefix = `${platform.endpoints.graphBaseUrl}/v1.0${startPath.split('?')[0]}`;
  if (!link.startsWith(`${expectedPrefix}?`)) throw refused(vendor, 'cursor does not belong to this resource');
}

function versionOf(item: Record<string, unknown>): string | undefined {
  const version = item.eTag ?? item['@odata.etag'] ?? item.changeKey ?? item.lastModifiedDateTime;
  return typeof version === 'string' ? version : undefined;
}
