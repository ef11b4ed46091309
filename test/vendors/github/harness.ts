/** GitHub emulator + real Octokit connector wired together for the GitHub tests. */
import crypto from 'node:crypto';
import { createGithubConnector } from '../../../activities/vendors/github/connector';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import type { SetupBinding } from '../../../lib/oauth/setupState';
import { startGithubEmulator, type GithubEmulator } from '../../../emulators/github';
import { recordingAuditor } from '../support/recordingAudit';
import { resettableBudgets, type ResettableBudgets } from '../support/resettableBudgets';

export const REDIRECT_URI = 'https://app.example.test/integrations/github/callback';
export const WEBHOOK_SECRET = 'whsec-test-github';
/** The app's Setup URL as the emulator knows it (the connector tests read the redirect, nobody serves it). */
export const SETUP_URL = 'https://app.example.test/v1/oauth/setup/github';

export interface GithubHarness {
  emulator: GithubEmulator;
  connector: Connector;
  /** The connector's vendor budgets (a 429's block stays in them until reset). */
  budgets: ResettableBudgets;
  installationId: number;
  context(
    credential: TokenSet,
    controls?: Record<string, string[]>,
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  /** The browser at the app's installation page: the setup redirect's installation id and state. */
  setup(binding?: Partial<SetupBinding>): Promise<{ installationId: string; setupAction: string; state: string }>;
  /**
   * Installation page → setup redirect → user authorization (PKCE) → code exchange with the
   * installation the redirect named (or `installationId`, as a forging browser would); returns the credential.
   */
  connect(options?: { controls?: Record<string, string[]>; installationId?: string }): Promise<TokenSet>;
}

export async function startGithubHarness(): Promise<GithubHarness> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = {
    appId: '4242',
    appSlug: 'trackproject-test',
    clientId: 'Iv1.emulated',
    clientSecret: 'client-secret-github',
  };
  const emulator = await startGithubEmulator({
    appId: app.appId,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUris: [REDIRECT_URI],
    webhookSecret: WEBHOOK_SECRET,
    appSlug: app.appSlug,
    setupUrl: SETUP_URL,
  });
  for (const name of ['acme/site-a', 'acme/site-b', 'acme/private-hr']) emulator.control.addRepository(name);
  const installationId = emulator.control.install({
    account: 'acme',
    repositories: ['acme/site-a', 'acme/site-b'],
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write', pull_requests: 'write' },
    users: ['octocat'],
    owners: ['octocat'],
  });
  const budgets = resettableBudgets();
  const connector = createGithubConnector({
    apiBaseUrl: emulator.url,
    webBaseUrl: emulator.url,
    appId: app.appId,
    appSlug: app.appSlug,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    budgets,
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
  const harness: GithubHarness = {
    emulator,
    connector,
    budgets,
    installationId,
    context,
    async setup(binding = {}) {
      const url = connector.installation!.setupUrl('github', {
        workspaceId,
        integrationId: crypto.randomUUID(),
        runId: 'run-1',
        expiresAt: Date.now() + 60_000,
        ...binding,
      });
      const page = await fetch(url, { redirect: 'manual' });
      if (page.status !== 302) throw new Error(`installation page answered ${page.status}: ${await page.text()}`);
      const redirect = new URL(page.headers.get('location')!);
      return {
        installationId: redirect.searchParams.get('installation_id')!,
        setupAction: redirect.searchParams.get('setup_action')!,
        state: redirect.searchParams.get('state')!,
      };
    },
    async connect(options = {}) {
      const { createPkcePair } = await import('../../../lib/oauth/pkce');
      const chosen = options.installationId ?? (await harness.setup()).installationId;
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
      return connector.exchangeCode('github', {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: pkce.verifier,
        audit,
        installation: { installationId: chosen, controls: options.controls ?? {} },
      });
    },
  };
  return harness;
}
