/** Jira emulator + real jira.js connector wired together for the Jira tests. */
import crypto from 'node:crypto';
import { JIRA_REQUESTED_SCOPES, jiraDescriptor } from '../../../activities/vendors/jira';
import { createJiraConnector } from '../../../activities/vendors/jira/connector';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { startJiraEmulator, type JiraEmulator } from '../../../emulators/jira';
import { recordingAuditor } from '../support/recordingAudit';
import { resettableBudgets, type ResettableBudgets } from '../support/resettableBudgets';

export const REDIRECT_URI = 'https://app.example.test/integrations/jira/callback';
export const CLIENT_ID = 'jira-client-id';
export const CLIENT_SECRET = 'jira-client-secret';

export interface JiraHarness {
  emulator: JiraEmulator;
  connector: Connector;
  /** The connector's vendor budgets (a 429's block stays in them until reset). */
  budgets: ResettableBudgets;
  context(
    credential: TokenSet,
    controls?: Record<string, string[]>,
  ): ConnectorContext & { auditEntries: ReturnType<typeof recordingAuditor>['entries'] };
  /** Consent (state, no PKCE) + code exchange; returns the integration's credential. */
  connect(): Promise<TokenSet>;
}

/** `app`: our Jira app's registration (a test whose API verifies deliveries passes the API's). */
export async function startJiraHarness(
  app: { clientId: string; clientSecret: string } = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
): Promise<JiraHarness> {
  const emulator = await startJiraEmulator({
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUris: [REDIRECT_URI],
    // The app is configured with more than we ask for: requests must stay narrow on their own.
    appScopes: [...JIRA_REQUESTED_SCOPES, 'manage:jira-project', 'read:jira-user'],
  });
  for (const key of ['SITE', 'OPS', 'HR']) emulator.control.addProject(key);
  const budgets = resettableBudgets();
  const connector = createJiraConnector({
    authBaseUrl: emulator.url,
    apiBaseUrl: emulator.url,
    ...app,
    now: emulator.control.clock.now,
    budgets,
  });
  const workspaceId = crypto.randomUUID();
  const context: JiraHarness['context'] = (credential, controls = { projects: ['SITE'] }) => {
    const { audit, entries } = recordingAuditor({ workspaceId, vendor: 'jira' });
    return {
      workspaceId: crypto.randomUUID(),
      integrationId: crypto.randomUUID(),
      vendor: 'jira',
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
    budgets,
    context,
    async connect() {
      const url = connector.authorizeUrl('jira', {
        state: crypto.randomUUID(),
        redirectUri: REDIRECT_URI,
        scopes: jiraDescriptor.scopes.required,
      });
      const consent = await fetch(url, { redirect: 'manual' });
      const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
      const { audit } = recordingAuditor({ workspaceId, vendor: 'jira' });
      return connector.exchangeCode('jira', { code, redirectUri: REDIRECT_URI, audit });
    },
  };
}
