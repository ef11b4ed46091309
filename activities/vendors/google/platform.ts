/**
 * What the Google concerns share: our app, its endpoints, the clock, and the audited call paths
 * (T10) under one rate budget per workspace.
 */
import { createVendorCall, type VendorBudgets, type VendorCall } from '../shared';
import type { AuditedCall, ConnectorContext } from '../types';
import { createDriveClient, googleEndpoints, type DriveClient, type GoogleEndpoints } from './client';
import type { GoogleApp } from './config';
import { googleDescriptors } from './descriptor';
import { mapGoogleError } from './errors';

export interface GoogleConnectorOptions extends GoogleApp {
  now?: () => number;
  /** The worker's vendor budgets (shared by every worker); absent: this process's own. */
  budgets?: VendorBudgets;
}

/** One Drive call inside the audit, errors mapped; `precheck` runs inside too, so our own refusals are audited. */
export type DriveCall = <T>(
  ctx: ConnectorContext,
  call: AuditedCall,
  run: (drive: DriveClient) => Promise<T>,
  precheck?: () => void,
) => Promise<T>;

export interface GooglePlatform {
  app: GoogleApp;
  endpoints: GoogleEndpoints;
  now: () => number;
  vendorCall: VendorCall;
  driveCall: DriveCall;
}

export function createGooglePlatform(options: GoogleConnectorOptions): GooglePlatform {
  const { now = Date.now, budgets, ...app } = options;
  const endpoints = googleEndpoints(app);
  const vendorCall = createVendorCall({
    family: 'google',
    appId: app.clientId,
    rateLimit: googleDescriptors['google-drive'].rateLimit,
    budgets,
    mapError: (error) => mapGoogleError('google', error),
  });
  const driveCall: DriveCall = (ctx, call, run, precheck) =>
    vendorCall({ audit: ctx.audit, workspaceId: ctx.workspaceId }, call, async () => {
      precheck?.();
      return run(createDriveClient(app, endpoints, ctx.credential.accessToken));
    });
  return { app, endpoints, now, vendorCall, driveCall };
}
