/** Google emulator + the real `@googleapis/drive` / `google-auth-library` connector, wired for the Google tests. */
import crypto from 'node:crypto';
import { googleDescriptors, type GoogleVendorId } from '../../../activities/vendors/google';
import { createGoogleConnector } from '../../../activities/vendors/google/connector';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { startGoogleEmulator, type GoogleEmulator } from '../../../emulators/google';
import { createPkcePair } from '../../../lib/oauth/pkce';
import { recordingAuditor } from '../support/recordingAudit';

export const REDIRECT_URI = 'https://app.example.test/v1/oauth/callback/google';
export const WORKSPACE_DOMAIN = 'acme.example';

export interface GoogleHarness {
  emulator: GoogleEmulator;
  connector: Connector;
  context(
    vendor: GoogleVendorId,
    credential: TokenSet,
    controls?: Record<string, string[]>,
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  /** Consent at the emulator (PKCE S256) + code exchange. */
  connect(
    vendor: GoogleVendorId,
    controls?: Record<string, string[]>,
  ): Promise<{ tokens: TokenSet; authorizeUrl: URL }>;
  /** Emulator requests to a path, from index `since` of the log on. */
  requestsTo(pattern: RegExp, since?: number): GoogleEmulator['requests'];
  stop(): Promise<void>;
}

/** `redirectUris`: the callbacks registered with our Google client (the API's, in the API journeys). */
export async function startGoogleHarness(redirectUris = [REDIRECT_URI]): Promise<GoogleHarness> {
  const emulator = await startGoogleEmulator({ redirectUris });
  const connector = createGoogleConnector({
    accountsUrl: emulator.url,
    oauth2Url: emulator.url,
    apiUrl: emulator.url,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    now: emulator.control.clock.now,
  });
  const workspaceId = crypto.randomUUID();
  const defaultControls = (vendor: GoogleVendorId): Record<string, string[]> =>
    vendor === 'google-workspace' ? { tenant: [WORKSPACE_DOMAIN] } : { files: [] };
  const context: GoogleHarness['context'] = (vendor, credential, controls = defaultControls(vendor)) => {
    const { audit, entries } = recordingAuditor({ workspaceId, vendor });
    return {
      // A workspace per context: each gets its own request budget, as integrations of different workspaces do.
      workspaceId: crypto.randomUUID(),
      integrationId: crypto.randomUUID(),
      vendor,
      credential,
      scopes: credential.grantedScopes,
      controls,
      audit,
      auditEntries: entries,
    };
  };
  return {
    emulator,
    connector,
    context,
    async connect(vendor, controls = defaultControls(vendor)) {
      const pkce = createPkcePair();
      const authorizeUrl = new URL(
        connector.authorizeUrl(vendor, {
          state: crypto.randomUUID(),
          redirectUri: REDIRECT_URI,
          scopes: googleDescriptors[vendor].scopes.required,
          codeChallenge: pkce.challenge,
        }),
      );
      const consent = await fetch(authorizeUrl, { redirect: 'manual' });
      const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
      const { audit } = recordingAuditor({ workspaceId, vendor });
      const tokens = await connector.exchangeCode(vendor, {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: pkce.verifier,
        audit,
        controls,
      });
      return { tokens, authorizeUrl };
    },
    requestsTo: (pattern, since = 0) => emulator.requests.slice(since).filter((r) => pattern.test(r.path)),
    stop: () => emulator.stop(),
  };
}

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
