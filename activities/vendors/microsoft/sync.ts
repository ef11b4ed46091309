/**
 * Incremental sync: each row's delta resources and where their rounds start. Teams and Entra have
 * none (Teams' matrix scopes cannot read channels; Entra reads identity once at sign-in).
 */
import type { ConnectorContext, SyncPage } from '../types';
import { calendarDeltaStart } from './calendarSync';
import { deltaPage } from './delta';
import type { MicrosoftVendorId } from './descriptor';
import { APP_FOLDER_DELTA_START, MY_DRIVE_DELTA_START, siteWalkPage } from './driveSync';
import { microsoftRow, refused } from './guards';
import type { MicrosoftPlatform } from './platform';

export async function fetchPage(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  input: { resource: string; cursor: string | null },
): Promise<SyncPage> {
  const id = microsoftRow(ctx.vendor);
  if (id === 'sharepoint' && input.resource === 'site-drive-items') return siteWalkPage(platform, ctx, input.cursor);
  const page = await deltaPage(platform, ctx, id, input.resource, input.cursor, () =>
    deltaStart(platform, id, input.resource),
  );
  return {
    records: page.records,
    deletedExternalIds: page.deletedExternalIds,
    nextCursor: page.nextLink ?? page.deltaLink ?? null,
    roundComplete: Boolean(page.deltaLink),
  };
}

/** Where a resource's round starts; a resource outside the row is refused inside the audited call. */
function deltaStart(platform: MicrosoftPlatform, vendor: MicrosoftVendorId, resource: string): string {
  if (vendor === 'microsoft365' && resource === 'drive-items') return MY_DRIVE_DELTA_START;
  if (vendor === 'microsoft365' && resource === 'calendar-events') return calendarDeltaStart(platform.now());
  if (vendor === 'onedrive' && resource === 'app-folder-items') return APP_FOLDER_DELTA_START;
  throw refused(vendor, `resource ${resource} is not in the matrix row`);
}
