/** GitHub emulator + real Octokit connector wired together for the GitHub tests. */
import crypto from 'node:crypto';
import { createGithubConnector } from '../../../activities/vendors/github/connector';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { startGithubEmulator, type GithubEmulator } from '../../../emulators/github';
import { recordingAuditor } from '../support/recordingAudit';

export const REDIRECT_URI = 'https://app.example.test/integrations/github/callback';
export const WEBHOOK_SECRET = 'whsec-test-github';

export interface GithubHarness {
  emulator: GithubEmulator;
  connector: Connector;
  installationId: number;
  context(
    credential: TokenSet,
    controls?: Record<string, string[]>,
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  /** Runs the user authorization (PKCE) + code exchange and returns the integration's credential. */
  connect(): Promise<TokenSet>;
}

export async function startGithubHarness(): Promise<GithubHarness> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = { appId: '4242', clientId: 'Iv1.emulated', clientSecret: 'client-secret-github' };
  const emulator = await startGithubEmulator({
    appId: app.appId,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUris: [REDIRECT_URI],
    webhookSecret: WEBHOOK_SECRET,
  });
  for (const name of ['acme/site-a', 'acme/site-b', 'acme/private-hr']) emulator.control.addRepository(name);
  const installationId = emulator.control.install({
    account: 'acme',
    repositories: ['acme/site-a', 'acme/site-b'],
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write', pull_requests: 'write' },
    users: ['octocat'],
  });
  const connector = createGithubConnector({
    apiBaseUrl: emulator.url,
    webBaseUrl: emulator.url,
    appId: app.appId,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    clientId: app.clientId,
    clientSecret: app.clientSecret,
  });
  const workspaceId = crypto.randomUUID();
  const context: GithubHarness['context'] = (credential, controls = {}) => {
    const { audit, entries } = recordingAuditor({ workspaceId, vendor: 'github' });
    return {
      workspaceId: crypto.randomUUID(),
      integrationId: crypto.randomUUID(),
      vendor: 'github',
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
    installationId,
    context,
    async connect() {
      const { createPkcePair } = await import('../../../lib/oauth/pkce');
      const pkce = createPkcePair();
      const url = connector.authorizeUrl('github', {
        state: 'state-1',
        redirectUri: REDIRECT_URI,
        scopes: [],
        codeChallenge: pkce.challenge,
      });
      const consent = await fetch(url, { redirect: 'manual' });
      const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
      const { audit } = recordingAuditor({ workspaceId, vendor: 'github' });
      return connector.exchangeCode('github', { code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier, audit });
    },
  };
}
