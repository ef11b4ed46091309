/** Procore emulator + real @procore/js-sdk connector wired together for the Procore tests. */
import crypto from 'node:crypto';
import { createVendorCallAuditor } from '../../../activities/vendors/audited';
import { procoreDescriptor } from '../../../activities/vendors/procore';
import { createProcoreConnector } from '../../../activities/vendors/procore/connector';
import type { Connector, ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';
import { startProcoreEmulator, type ProcoreEmulator } from '../../../emulators/procore';
import type { ProjectState } from '../../../emulators/procore/emulator';

export const REDIRECT_URI = 'https://app.example.test/integrations/procore/callback';
export const CLIENT_ID = 'procore-client-id';
export const CLIENT_SECRET = 'procore-client-secret';

export interface ProcoreHarness {
  emulator: ProcoreEmulator;
  connector: Connector;
  /** Selected (tower, depot) and never selected (office) projects. */
  projects: { tower: ProjectState; depot: ProjectState; office: ProjectState };
  /**
   * A connector context; `consented` are the integration's consented permissions, which the
   * audited path enforces (T17, T19) as it does for a connected integration.
   */
  context(
    credential: TokenSet,
    options?: { controls?: Record<string, string[]>; consented?: readonly string[]; workspaceId?: string },
  ): ConnectorContext & { auditEntries: AuditEntry[] };
  /** Consent (state, no PKCE) + code exchange; returns the integration's credential. */
  connect(requestedScopes?: readonly string[]): Promise<TokenSet>;
}

export async function startProcoreHarness(): Promise<ProcoreHarness> {
  const emulator = await startProcoreEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT_URI],
  });
  const projects = {
    tower: emulator.control.addProject('Tower A'),
    depot: emulator.control.addProject('Depot'),
    office: emulator.control.addProject('Head office fit-out'),
  };
  const connector = createProcoreConnector({
    authBaseUrl: emulator.url,
    apiBaseUrl: emulator.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    now: emulator.control.clock.now,
  });
  const context: ProcoreHarness['context'] = (credential, options = {}) => {
    const workspaceId = options.workspaceId ?? crypto.randomUUID();
    const entries: AuditEntry[] = [];
    const audit = createVendorCallAuditor({
      sink: { record: async (entry) => void entries.push(entry) },
      workspaceId,
      vendor: 'procore',
      actor: { type: 'workflow', id: 'test-workflow' },
      consentedScopes: options.consented ?? credential.grantedScopes,
    });
    return {
      workspaceId,
      integrationId: crypto.randomUUID(),
      vendor: 'procore',
      credential,
      scopes: options.consented ?? credential.grantedScopes,
      controls: options.controls ?? { projects: [String(projects.tower.id), String(projects.depot.id)] },
      audit,
      auditEntries: entries,
    };
  };
  return {
    emulator,
    connector,
    projects,
    context,
    async connect(requestedScopes = procoreDescriptor.scopes.required) {
      const url = connector.authorizeUrl('procore', {
        state: crypto.randomUUID(),
        redirectUri: REDIRECT_URI,
        scopes: requestedScopes,
      });
      const consent = await fetch(url, { redirect: 'manual' });
      const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
      const audit = createVendorCallAuditor({
        sink: { record: async () => undefined },
        workspaceId: crypto.randomUUID(),
        vendor: 'procore',
        actor: { type: 'workflow', id: 'test-workflow' },
      });
      return connector.exchangeCode('procore', { code, redirectUri: REDIRECT_URI, audit, requestedScopes });
    },
  };
}
