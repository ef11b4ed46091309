/**
 * Workflow ids, messages and payload types are defined once in the client package (backend
 * services import the same definitions); the rotation policy the workflows apply is kept here.
 */
import type { VendorDescriptor } from '../activities/vendors/types';
import type { RotationKind } from '@trackproject/integrations-client/definitions';

export * from '@trackproject/integrations-client/definitions';

const DAY_MS = 24 * 60 * 60 * 1000;

/** T8: a service-account credential (or a secret the customer's admin typed in) is renewed within this many days. */
const CUSTOMER_SECRET_MAX_AGE_MS = 90 * DAY_MS;
/**
 * How long before that the admin is asked for a new one, where the vendor has no API for us to set
 * it (service accounts of SAP, Oracle ERP, P6; Okta's event hook header): time to create it in their
 * tenant and upload it before the old one is due.
 */
export const RENEWAL_REQUEST_LEAD_MS = 14 * DAY_MS;

/**
 * T8: how often the lifecycle starts a rotation of each kind. OAuth access/refresh pairs are cheap to
 * re-issue (a refresh) and the most exposed, so monthly; signing secrets quarterly; service accounts
 * 14 days before their quarter ends, since their rotation asks the admin for the new credential.
 * Overridable per integration through `LifecycleInput.rotationCadenceMs`. App-level secrets (our
 * GitHub App's key and webhook secret, our Slack app's signing secret) are not an integration's: the
 * operator rotates them (`docs/key-management.md`) and no lifecycle schedules them.
 */
export const ROTATION_CADENCE_MS: Record<RotationKind, number> = {
  'oauth-tokens': 30 * DAY_MS,
  'service-account': CUSTOMER_SECRET_MAX_AGE_MS - RENEWAL_REQUEST_LEAD_MS,
  'webhook-secret': 90 * DAY_MS,
  'app-private-key': 90 * DAY_MS,
};

/**
 * T8: the kinds of secret an integration holds, hence rotates: its credential, and its webhook
 * signing secret unless that is our app's (one for all customers: an operator rotation).
 */
export function rotatedKinds(descriptor: VendorDescriptor): RotationKind[] {
  // Sign-in-only rows (Entra ID) hold no credential to rotate: the ID token was read once at sign-in.
  if (descriptor.authKind === 'federated-identity') return [];
  const credential: RotationKind = descriptor.authKind === 'service-account' ? 'service-account' : 'oauth-tokens';
  const ownWebhookSecret = descriptor.webhook.scheme !== 'none' && descriptor.webhook.secretHolder !== 'app';
  return ownWebhookSecret ? [credential, 'webhook-secret'] : [credential];
}

/**
 * How long the previous version stays readable after promotion: in-flight activities that read it
 * finish (their start-to-close is 1 minute) and webhook deliveries signed with the old secret drain.
 */
export const ROTATION_GRACE_MS: Record<RotationKind, number> = {
  'oauth-tokens': 10 * 60 * 1000,
  'service-account': DAY_MS,
  'webhook-secret': DAY_MS,
  'app-private-key': DAY_MS,
};
