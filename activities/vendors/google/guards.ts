/**
 * Refusals decided before any request leaves: the call must be for a Google row, and Drive may
 * touch only what the user picked (T18): the file ids the web app's Picker handed us
 * (`controls.files`). Callers throw these inside the audited call so refusals are recorded (T10).
 */
import { VendorError, VendorFailureType } from '../errors';
import type { ConnectorContext, VendorId } from '../types';
import { isGoogleVendor, type GoogleVendorId } from './descriptor';

export function googleRow(vendor: VendorId): GoogleVendorId {
  if (!isGoogleVendor(vendor))
    throw new VendorError(VendorFailureType.VendorRejected, vendor, 'not a Google integration');
  return vendor;
}

export function refused(vendor: string, reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, vendor, reason);
}

export function pickedFiles(ctx: ConnectorContext): string[] {
  return ctx.controls.files ?? [];
}

export function assertPicked(ctx: ConnectorContext, fileId: string): void {
  if (!pickedFiles(ctx).includes(fileId)) throw refused(ctx.vendor, 'file or folder not picked by the user');
}

/** Workspace sign-in: the customer's Google Workspace domains (`controls.tenant`), at least one. */
export function hostedDomains(vendor: string, controls: Record<string, string[]> | undefined): string[] {
  const domains = controls?.tenant ?? [];
  if (domains.length === 0) throw refused(vendor, 'no Workspace domain (controls.tenant) to enforce');
  return domains.map((domain) => domain.toLowerCase());
}
