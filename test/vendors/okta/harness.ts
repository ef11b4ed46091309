/** Shared setup for the Okta connector tests: one emulated org, the connector, sign-in through a browser-like redirect. */
import { OKTA_CONTROL, OKTA_MATRIX_SCOPE } from '../../../activities/vendors/okta';
import { createOktaConnector } from '../../../activities/vendors/okta/connector';
import { resettableBudgets, type ResettableBudgets } from '../support/resettableBudgets';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { startOktaEmulator, type OktaEmulator } from '../../../emulators/okta';
import { createPkcePair } from '../../../lib/oauth/pkce';
import { recordingAuditor } from '../support/recordingAudit';

export const WORKSPACE_ID = '11111111-1111-4111-8111-111111111111';
export const INTEGRATION_ID = '33333333-3333-4333-8333-333333333333';
export const REDIRECT_URI = 'https://api.trackproject.example/v1/oauth/callback/okta';

export interface OktaHarness {
  emulator: OktaEmulator;
  connector: Connector;
  /** The connector's vendor budgets: a 429 blocks the org's budget until `reset()` (its Retry-After). */
  budgets: ResettableBudgets;
  controls: Record<string, string[]>;
  /** Follows the org's authorize redirect like a browser; returns the callback URL. */
  consent(authorizeUrl: string): Promise<URL>;
  /** Signs in at the harness's org, or at the org `controls` name (another emulator). */
  signIn(options?: {
    verifier?: string;
    controls?: Record<string, string[]>;
  }): Promise<{ tokens: TokenSet; authorizeUrl: URL }>;
  /** The connector context of an integration (this harness's workspace and org unless told otherwise). */
  context(
    tokens: TokenSet,
    integration?: { workspaceId: string; controls: Record<string, string[]> },
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  stop(): Promise<void>;
}

export async function startOktaHarness(): Promise<OktaHarness> {
  const emulator = await startOktaEmulator({ redirectUris: [REDIRECT_URI] });
  const budgets = resettableBudgets();
  const connector = createOktaConnector({ orgDomains: ['127.0.0.1'], allowHttp: true, budgets });
  const controls = { [OKTA_CONTROL.org]: [emulator.url], [OKTA_CONTROL.clientId]: [emulator.clientId] };

  async function consent(authorizeUrl: string): Promise<URL> {
    const response = await fetch(authorizeUrl, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status !== 302 || !location) throw new Error(`authorize did not redirect (${response.status})`);
    return new URL(location);
  }

  return {
    emulator,
    connector,
    budgets,
    controls,
    consent,
    async signIn(options = {}) {
      const orgControls = options.controls ?? controls;
      const pkce = createPkcePair();
      const authorizeUrl = connector.authorizeUrl('okta', {
        state: 'state-okta',
        redirectUri: REDIRECT_URI,
        scopes: [OKTA_MATRIX_SCOPE],
        codeChallenge: pkce.challenge,
        controls: orgControls,
      });
      const callback = await consent(authorizeUrl);
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`no code: ${callback.searchParams.get('error')}`);
      const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'okta' });
      const tokens = await connector.exchangeCode('okta', {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: options.verifier ?? pkce.verifier,
        audit,
        controls: orgControls,
      });
      return { tokens, authorizeUrl: new URL(authorizeUrl) };
    },
    context(tokens, integration = { workspaceId: WORKSPACE_ID, controls }) {
      const { audit, entries } = recordingAuditor({ workspaceId: integration.workspaceId, vendor: 'okta' });
      return {
        workspaceId: integration.workspaceId,
        integrationId: INTEGRATION_ID,
        vendor: 'okta',
        credential: tokens,
        scopes: tokens.grantedScopes,
        controls: integration.controls,
        audit,
        auditEntries: entries,
      };
    },
    stop: () => emulator.stop(),
  };
}
