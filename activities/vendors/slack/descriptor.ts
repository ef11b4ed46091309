/** The Slack row of the vendor matrix, as data. */
import type { VendorDescriptor } from '../types';

/** The matrix row's bot scopes (T1): exactly these, never more (no user scopes at all). */
export const SLACK_SCOPES = ['chat:write', 'channels:read'] as const;

export const slackDescriptor: VendorDescriptor = {
  id: 'slack',
  displayName: 'Slack',
  scopes: { required: SLACK_SCOPES, optional: [] },
  authKind: 'oauth2-pkce',
  // Our Slack app is a PKCE app (Slack's switch is one-way): every consent carries an S256 challenge.
  pkce: true,
  customerControl: {
    kind: 'channels',
    description: 'Channel-scoped: messages go only to the channels the admin selected; admin disconnect.',
    // `channels:read` lists the public channels for the admin's picker.
    listable: true,
  },
  // `channels:read` serves the admin's channel picker only: nothing is synced or cached (T19).
  dataIn: [],
  dataOut: ['workflow-notification', 'ai-summary'],
  syncResources: [],
  syncMode: 'none',
  rateLimit: {
    // Our budget per Slack workspace; the per-method tiers and chat.postMessage's per-channel pace
    // are budgeted on top of it in the connector (`./tiers`), inside the same team's key.
    requestsPerMinute: 50,
    // Slack counts per app and per Slack workspace (the install's team), whichever of ours calls.
    countedPer: ['teamId'],
  },
  // Events API: one Request URL for the whole app, signed with the app's signing secret.
  webhook: { scheme: 'slack-signing-secret', secretHolder: 'app' },
  revocation: {
    kind: 'revoke-endpoint',
    note: 'Slack revokes the token with auth.revoke; Slack has no per-channel revoke (channel selection is enforced by us).',
  },
  cacheTtlMs: 24 * 60 * 60_000,
};

export const slackDescriptors: readonly VendorDescriptor[] = [slackDescriptor];
