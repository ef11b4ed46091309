/** Shared setup for the Microsoft connector tests: emulator, connector, connect-through-consent, contexts. */
import { fetch as undiciFetch } from 'undici';
import { microsoftDescriptors, type MicrosoftVendorId } from '../../../activities/vendors/microsoft';
import { createDispatcher } from '../../../activities/vendors/microsoft/client';
import { createMicrosoftConnector } from '../../../activities/vendors/microsoft/connector';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../../../emulators/microsoft';
import { createPkcePair } from '../../../lib/oauth/pkce';
import { recordingAuditor } from '../support/recordingAudit';
import { resettableBudgets, type ResettableBudgets } from '../support/resettableBudgets';

export const WORKSPACE_ID = '11111111-1111-4111-8111-111111111111';
export const INTEGRATION_ID = '22222222-2222-4222-8222-222222222222';
export const REDIRECT_URI = 'https://app.trackproject.example/integrations/callback';

export interface MicrosoftHarness {
  emulator: MicrosoftEmulator;
  connector: Connector;
  /** The connector's vendor budgets (a 429's block stays in them until reset). */
  budgets: ResettableBudgets;
  /** Follows the emulator's consent redirect like a browser would; returns the callback URL. */
  consent(authorizeUrl: string): Promise<URL>;
  connect(
    vendor: MicrosoftVendorId,
    options?: { scopes?: string[]; verifier?: string },
  ): Promise<{ tokens: TokenSet; authorizeUrl: URL }>;
  context(
    vendor: MicrosoftVendorId,
    tokens: TokenSet,
    controls?: Record<string, string[]>,
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  stop(): Promise<void>;
}

/**
 * `notificationsTo`: an http origin standing for the API at an http public URL; the connector then
 * subscribes through an https front to it, as the sandbox wires it (Graph delivers to https only).
 */
export async function startMicrosoftHarness(options: { notificationsTo?: string } = {}): Promise<MicrosoftHarness> {
  const emulator = await startMicrosoftEmulator();
  const front = options.notificationsTo ? await emulator.httpsFront(options.notificationsTo) : undefined;
  const budgets = resettableBudgets();
  const connector = createMicrosoftConnector({
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    tenantId: emulator.tenantId,
    graphBaseUrl: emulator.url,
    loginBaseUrl: emulator.url,
    caCert: emulator.caCert,
    notificationUrl: front?.url,
    now: emulator.control.now,
    budgets,
  });
  const browser = createDispatcher(emulator.caCert);

  async function consent(authorizeUrl: string): Promise<URL> {
    const response = await undiciFetch(authorizeUrl, { redirect: 'manual', dispatcher: browser });
    const location = response.headers.get('location');
    if (response.status !== 302 || !location) throw new Error(`consent did not redirect (${response.status})`);
    return new URL(location);
  }

  return {
    emulator,
    connector,
    budgets,
    consent,
    async connect(vendor, options = {}) {
      const descriptor = microsoftDescriptors[vendor];
      const pkce = createPkcePair();
      const authorizeUrl = connector.authorizeUrl(vendor, {
        state: `state-${vendor}`,
        redirectUri: REDIRECT_URI,
        scopes: options.scopes ?? [...descriptor.scopes.required, ...descriptor.scopes.optional],
        codeChallenge: pkce.challenge,
      });
      const callback = await consent(authorizeUrl);
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`no code: ${callback.searchParams.get('error')}`);
      const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor });
      const tokens = await connector.exchangeCode(vendor, {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: options.verifier ?? pkce.verifier,
        audit,
      });
      return { tokens, authorizeUrl: new URL(authorizeUrl) };
    },
    context(vendor, tokens, controls = {}) {
      const { audit, entries } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor });
      return {
        workspaceId: WORKSPACE_ID,
        integrationId: INTEGRATION_ID,
        vendor,
        credential: tokens,
        scopes: tokens.grantedScopes,
        controls,
        audit,
        auditEntries: entries,
      };
    },
    stop: () => emulator.stop(),
  };
}

/** Sites.Selected: the tenant admin grants the app a site (`POST /sites/{id}/permissions`, Sites.FullControl.All); answers the status. */
export async function grantSiteToApp(emulator: MicrosoftEmulator, siteId: string): Promise<number> {
  const response = await undiciFetch(`${emulator.url}/v1.0/sites/${encodeURIComponent(siteId)}/permissions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${emulator.control.issueAccessToken(['Sites.FullControl.All'])}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      roles: ['write'],
      grantedToIdentities: [{ application: { id: emulator.clientId, displayName: 'TrackProject' } }],
    }),
    dispatcher: createDispatcher(emulator.caCert),
  });
  return response.status;
}

/** Graph requests (not identity-platform ones) the emulator received since `from`. */
export function graphRequestsSince(emulator: MicrosoftEmulator, from: number) {
  return emulator.requests.slice(from).filter((request) => request.path.startsWith('/v1.0/'));
}

/** Runs a promise expected to fail with a VendorError and returns its type and details. */
export async function failureOf(
  promise: Promise<unknown>,
): Promise<{ type: string; retryAfterMs?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const typed = error as { type?: string; details?: { retryAfterMs?: number }; message: string };
    return { type: typed.type ?? 'untyped', retryAfterMs: typed.details?.retryAfterMs, message: typed.message };
  }
  throw new Error('expected a failure');
}
