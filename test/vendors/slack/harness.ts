/** Slack emulator + the real `@slack/web-api` connector wired together for the Slack tests. */
import crypto from 'node:crypto';
import { SLACK_SCOPES } from '../../../activities/vendors/slack';
import { createSlackConnector } from '../../../activities/vendors/slack/connector';
import type { VendorBudgets } from '../../../activities/vendors/shared';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { startSlackEmulator, type SlackEmulator } from '../../../emulators/slack';
import { recordingAuditor } from '../support/recordingAudit';

export const REDIRECT_URI = 'https://app.example.test/integrations/slack/callback';
export const CLIENT_ID = '1234567890.0987654321';
export const CLIENT_SECRET = 'slack-client-secret';
export const SIGNING_SECRET = 'slack-signing-secret-for-tests';

export interface SlackHarness {
  emulator: SlackEmulator;
  connector: Connector;
  /** A connector of a worker with its own `budgets` (a shared store's, like a deployed worker's). */
  workerConnector(budgets: VendorBudgets): Connector;
  context(
    credential: TokenSet,
    controls?: Record<string, string[]>,
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  /** Consent with PKCE + code exchange; returns the integration's credential. */
  connect(): Promise<TokenSet>;
  /** The S256 challenge of a verifier, as the connect workflow computes it. */
  challengeOf(verifier: string): string;
}

export async function startSlackHarness(options: { tokenRotation?: boolean; redirectUris?: string[] } = {}) {
  const emulator = await startSlackEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    signingSecret: SIGNING_SECRET,
    redirectUris: options.redirectUris ?? [REDIRECT_URI],
    // The app is configured with more than we ask for: requests must stay narrow on their own.
    appScopes: [...SLACK_SCOPES, 'channels:history', 'users:read'],
    tokenRotation: options.tokenRotation,
  });
  // The connector's budgets run on the emulator's clock: a test moves time instead of sleeping.
  const workerConnector = (budgets?: VendorBudgets) =>
    createSlackConnector({
      apiUrl: emulator.apiUrl,
      webUrl: emulator.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      now: emulator.control.clock.now,
      budgets,
    });
  const connector = workerConnector();
  const challengeOf = (verifier: string) => crypto.createHash('sha256').update(verifier).digest('base64url');
  const context: SlackHarness['context'] = (credential, controls = { channels: [] }) => {
    const workspaceId = crypto.randomUUID();
    const { audit, entries } = recordingAuditor({ workspaceId, vendor: 'slack' });
    return {
      workspaceId,
      integrationId: crypto.randomUUID(),
      vendor: 'slack',
      credential,
      scopes: credential.grantedScopes,
      controls,
      audit,
      auditEntries: entries,
    };
  };
  const harness: SlackHarness = {
    emulator,
    connector,
    workerConnector,
    context,
    challengeOf,
    async connect() {
      const verifier = crypto.randomBytes(32).toString('base64url');
      const url = connector.authorizeUrl('slack', {
        state: crypto.randomUUID(),
        redirectUri: REDIRECT_URI,
        scopes: [...SLACK_SCOPES],
        codeChallenge: challengeOf(verifier),
      });
      const consent = await fetch(url, { redirect: 'manual' });
      const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
      const { audit } = recordingAuditor({ workspaceId: crypto.randomUUID(), vendor: 'slack' });
      return connector.exchangeCode('slack', { code, redirectUri: REDIRECT_URI, codeVerifier: verifier, audit });
    },
  };
  return harness;
}
