/**
 * What the matrix rows of customer-run vendors reached with a service account and polled on a
 * schedule say alike (Oracle ERP Cloud, Primavera P6): the rest of each row (scopes, controls,
 * data in and out, its rate limit and why) stays in the vendor's descriptor. SDK-free: the API
 * loads descriptors.
 */
import type { VendorDescriptor } from '../types';

export const POLLED_SERVICE_ACCOUNT_ROW = {
  // A service account in the customer's tenant, stored encrypted (T6).
  authKind: 'service-account',
  pkce: false,
  // The vendor sends no webhooks: scheduled sync.
  syncMode: 'scheduled-poll',
  webhook: { scheme: 'none' },
  revocation: { kind: 'none', note: 'The customer deletes the service account in their tenant.' },
  cacheTtlMs: 24 * 60 * 60_000,
} as const satisfies Partial<VendorDescriptor>;
