/**
 * Drive sync for the drive rows: the user's drive (Microsoft 365), the app folder (OneDrive) and the
 * admin-selected SharePoint sites' drives (T18), all by driveItem delta.
 */
import type { ConnectorContext, SyncPage } from '../types';
import { deltaPage } from './delta';
import { assertSiteSelected, selectedSites } from './guards';
import type { MicrosoftPlatform } from './platform';

export const MY_DRIVE_DELTA_START = '/me/drive/root/delta';
/** Files.ReadWrite.AppFolder reaches the app folder only: its delta starts there, not at the root. */
export const APP_FOLDER_DELTA_START = '/me/drive/special/approot/delta';

/**
 * SharePoint's one sync resource walks the admin's sites in turn, each on its own delta link, the
 * way GitHub's cursor walks the installed repositories. The selection is re-read when a round starts.
 */
interface SiteWalkCursor {
  sites: string[];
  /** The site being paged; a round completes when every site reached its delta link. */
  index: number;
  /** Per site: its next link mid-round, its delta link once paged to the end. */
  links: Record<string, string>;
  inRound: boolean;
}

/** One page of the current site of the walk. Item ids are unique per drive only, so ids carry the site. */
export async function siteWalkPage(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  cursorText: string | null,
): Promise<SyncPage> {
  const walk: SiteWalkCursor = cursorText
    ? (JSON.parse(cursorText) as SiteWalkCursor)
    : { sites: [], index: 0, links: {}, inRound: false };
  if (!walk.inRound) {
    walk.sites = [...selectedSites(ctx)];
    walk.links = Object.fromEntries(Object.entries(walk.links).filter(([siteId]) => walk.sites.includes(siteId)));
    walk.index = 0;
    walk.inRound = true;
  }
  const siteId = walk.sites[walk.index];
  if (siteId === undefined) {
    walk.inRound = false;
    return { records: [], deletedExternalIds: [], nextCursor: JSON.stringify(walk), roundComplete: true };
  }
  const page = await deltaPage(
    platform,
    ctx,
    'sharepoint',
    'site-drive-items',
    walk.links[siteId] ?? null,
    () => siteDeltaStart(ctx, siteId),
    `${siteId}/`,
  );
  walk.links[siteId] = (page.nextLink ?? page.deltaLink)!;
  if (page.deltaLink) walk.index += 1;
  walk.inRound = walk.index < walk.sites.length;
  return {
    records: page.records,
    deletedExternalIds: page.deletedExternalIds,
    nextCursor: JSON.stringify(walk),
    roundComplete: !walk.inRound,
  };
}

function siteDeltaStart(ctx: ConnectorContext, siteId: string): string {
  assertSiteSelected(ctx, siteId);
  return `/sites/${encodeURIComponent(siteId)}/drive/root/delta`;
}
