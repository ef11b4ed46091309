/**
 * Refusals decided before any request leaves: the call must be for a Microsoft row, and the T18
 * control of the row must allow it (SharePoint → admin-selected sites, Teams → admin-selected channels).
 * Callers throw these inside the audited call so refusals are recorded too (T10).
 */
import { VendorError, VendorFailureType } from '../errors';
import type { ConnectorContext, VendorId } from '../types';
import { isMicrosoftVendor, type MicrosoftVendorId } from './descriptor';

export function microsoftRow(vendor: VendorId): MicrosoftVendorId {
  if (!isMicrosoftVendor(vendor))
    throw new VendorError(VendorFailureType.VendorRejected, vendor, 'not a Microsoft integration');
  return vendor;
}

export function refused(vendor: string, reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, vendor, reason);
}

export function selectedSites(ctx: ConnectorContext): string[] {
  return ctx.controls.sites ?? [];
}

export function assertSiteSelected(ctx: ConnectorContext, siteId: string): void {
  if (!selectedSites(ctx).includes(siteId)) throw refused(ctx.vendor, 'site not selected by the workspace admin');
}

/** Teams channels are selected as `{teamId}/{channelId}`. */
export function assertChannelSelected(ctx: ConnectorContext, teamId: string, channelId: string): void {
  const selected = (ctx.controls.channels ?? []).some((entry) => {
    const [selectedTeam, selectedChannel] = entry.split('/');
    return Boolean(selectedTeam && selectedChannel) && selectedTeam === teamId && selectedChannel === channelId;
  });
  if (!selected) throw refused(ctx.vendor, 'channel not selected by the workspace admin');
}
