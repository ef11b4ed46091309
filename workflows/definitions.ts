/**
 * Workflow ids, messages and payload types are defined once in the client package (backend
 * services import the same definitions); the rotation policy the workflows apply is kept here.
 */
import type { VendorDescriptor } from '../activities/vendors/types';
import type { RotationKind } from '@trackproject/integrations-client/definitions';

export * from '@trackproject/integrations-client/definitions';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * T8: how often each kind of secret is rotated by the lifecycle. OAuth access/refresh pairs are
 * cheap to re-issue (a refresh) and the most exposed, so monthly; customer-tenant credentials
 * and signing secrets quarterly. Overridable per integration through `LifecycleInput.rotationCadenceMs`.
 */
export const ROTATION_CADENCE_MS: Record<RotationKind, number> = {
  'oauth-tokens': 30 * DAY_MS,
  'service-account': 90 * DAY_MS,
  'webhook-secret': 90 * DAY_MS,
  'app-private-key': 90 * DAY_MS,
};

/** T8: the kinds of secret an integration holds, hence rotates: its credential and its webhook signing secret. */
export function rotatedKinds(descriptor: VendorDescriptor): RotationKind[] {
  // Sign-in-only rows (Entra ID) hold no credential to rotate: the ID token was read once at sign-in.
  if (descriptor.authKind === 'federated-identity') return [];
  const credential: RotationKind = descriptor.authKind === 'service-account' ? 'service-account' : 'oauth-tokens';
  return descriptor.webhook.scheme === 'none' ? [credential] : [credential, 'webhook-secret'];
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
