/**
 * The Slack row of the vendor matrix: planned (no connector yet); its Events API receiver is
 * written (`./webhooks`) and served, but answers only endpoints that exist, so none until connect is built.
 */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';
import { slackVerifier } from './webhooks';

export const slackManifest: PlannedManifest = {
  family: 'slack',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'slack',
      displayName: 'Slack',
      scopes: { required: ['chat:write', 'channels:read'], optional: [] },
      authKind: 'oauth2-pkce',
      pkce: true,
      customerControl: { kind: 'channels', description: 'Channel-scoped; admin disconnect.' },
      dataIn: [],
      dataOut: ['workflow-notification', 'ai-summary'],
      syncResources: [],
      syncMode: 'none',
      webhook: { scheme: 'slack-signing-secret' },
      revocation: { kind: 'revoke-endpoint', note: 'Slack revokes the token with auth.revoke.' },
    },
  ],
  webhooks: { scheme: 'slack-signing-secret', verifier: () => slackVerifier },
};

export { slackDelivery, slackVerifier, verifySlackRequest } from './webhooks';
