/** APS emulator + the real `@aps_sdk/*` connector wired together for the Autodesk tests. */
import crypto from 'node:crypto';
import { createVendorCallAuditor } from '../../../activities/vendors/audited';
import { accDescriptor } from '../../../activities/vendors/autodesk';
import { createAutodeskConnector } from '../../../activities/vendors/autodesk/connector';
import type { Connector, ConnectorContext, TokenSet, VendorId } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';
import { createPkcePair as pkcePair } from '../../../lib/oauth/pkce';
import { startAutodeskEmulator, type AutodeskEmulator, type ProjectState } from '../../../emulators/autodesk';

export const REDIRECT_URI = 'https://app.example.test/integrations/autodesk/callback';
export const CLIENT_ID = 'aps-client-id';
export const CLIENT_SECRET = 'aps-client-secret';

export interface AutodeskHarness {
  emulator: AutodeskEmulator;
  connector: Connector;
  hubId: string;
  /** Selected (tower, depot) and never selected (office) projects. */
  projects: { tower: ProjectState; depot: ProjectState; office: ProjectState };
  /** The default selection: tower and depot. */
  selection(): string[];
  context(
    credential: TokenSet,
    options?: {
      vendor?: VendorId;
      controls?: Record<string, string[]>;
      consented?: readonly string[];
      workspaceId?: string;
    },
  ): ConnectorContext & { auditEntries: AuditEntry[] };
  /** Consent (state + PKCE) and code exchange; returns the integration's credential. */
  connect(options?: {
    vendor?: VendorId;
    scopes?: readonly string[];
    controls?: Record<string, string[]>;
  }): Promise<TokenSet>;
}

export async function startAutodeskHarness(): Promise<AutodeskHarness> {
  const emulator = await startAutodeskEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT_URI],
  });
  const hubId = emulator.control.addHub('Acme Construction');
  const projects = {
    tower: emulator.control.addProject(hubId, 'Tower A'),
    depot: emulator.control.addProject(hubId, 'Depot'),
    office: emulator.control.addProject(hubId, 'Head office fit-out'),
  };
  const connector = createAutodeskConnector({
    apiBaseUrl: emulator.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    now: emulator.control.clock.now,
  });
  const selection = () => [projects.tower.id, projects.depot.id];
  const context: AutodeskHarness['context'] = (credential, options = {}) => {
    const workspaceId = options.workspaceId ?? crypto.randomUUID();
    const vendor = options.vendor ?? 'autodesk-acc';
    const entries: AuditEntry[] = [];
    const audit = createVendorCallAuditor({
      sink: { record: async (entry) => void entries.push(entry) },
      workspaceId,
      vendor,
      actor: { type: 'workflow', id: 'test-workflow' },
      consentedScopes: options.consented ?? credential.grantedScopes,
    });
    return {
      workspaceId,
      integrationId: crypto.randomUUID(),
      vendor,
      credential,
      scopes: options.consented ?? credential.grantedScopes,
      controls: options.controls ?? { projects: selection() },
      audit,
      auditEntries: entries,
    };
  };
  return {
    emulator,
    connector,
    hubId,
    projects,
    selection,
    context,
    async connect(options = {}) {
      const vendor = options.vendor ?? 'autodesk-acc';
      const scopes = options.scopes ?? accDescriptor.scopes.required;
      const { verifier, challenge } = pkcePair();
      const url = connector.authorizeUrl(vendor, {
        state: crypto.randomUUID(),
        redirectUri: REDIRECT_URI,
        scopes,
        codeChallenge: challenge,
      });
      const consent = await fetch(url, { redirect: 'manual' });
      const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
      const audit = createVendorCallAuditor({
        sink: { record: async () => undefined },
        workspaceId: crypto.randomUUID(),
        vendor,
        actor: { type: 'workflow', id: 'test-workflow' },
      });
      return connector.exchangeCode(vendor, {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: verifier,
        audit,
        requestedScopes: scopes,
        controls: options.controls ?? { projects: selection() },
      });
    },
  };
}
