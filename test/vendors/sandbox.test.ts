/**
 * The offline sandbox started as `npm start` starts it, with an http public URL: Microsoft 365
 * connects and subscribes through the connectors the sandbox's environment configures (Graph
 * delivers to https only: the sandbox's front carries the notifications to the http API), each
 * added GitHub account comes with its own installation and browser session (bench:api's workspaces),
 * and Google Drive connects with the sandbox's picked files.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch as undiciFetch } from 'undici';
import { readServiceConfig } from '../../activities/vendors/catalog';
import { microsoftDescriptors, validationReply } from '../../activities/vendors/microsoft';
import { accDescriptor, docsDescriptor, tandemDescriptor } from '../../activities/vendors/autodesk';
import { PROCORE_READ } from '../../activities/vendors/procore';
import { createDispatcher } from '../../activities/vendors/microsoft/client';
import {
  createInMemorySamlReplayStore,
  parseIdpMetadata,
  samlSignInUrl,
  validateSamlResponse,
} from '../../activities/vendors/shared/saml';
import { samlAcsUrl, samlEntityId } from '../../activities/vendors/shared/samlServiceProvider';
import { startSandbox, type Sandbox } from '../../emulators/sandbox';
import { parseConfig } from '../../lib/config';
import { createPkcePair } from '../../lib/oauth/pkce';
import { createVendorRegistry } from '../../workers/vendors';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { recordingAuditor } from './support/recordingAudit';

const WORKSPACE_ID = '7d0c0ad4-1f5b-4c3e-9a55-2f8f3c1e9a10';

/** Stands for the API at its http public URL: answers Graph's validation handshake, records the paths. */
async function startHttpApi() {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    paths.push(url.pathname);
    const validation = validationReply(url.searchParams);
    res.writeHead(validation?.status ?? 202, validation ? { 'content-type': validation.contentType } : {});
    res.end(validation?.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    publicUrl: `http://localhost:${(server.address() as AddressInfo).port}`,
    paths,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let api: Awaited<ReturnType<typeof startHttpApi>>;
let sandbox: Sandbox;
beforeAll(async () => {
  api = await startHttpApi();
  sandbox = await startSandbox({ apiPublicUrl: api.publicUrl });
});
afterAll(async () => {
  await sandbox?.stop();
  await api?.stop();
});

test('T21 [microsoft365]: with an http public URL the sandbox connects Microsoft 365 and Graph subscribes through its https front', async () => {
  expect(sandbox.env.MICROSOFT_NOTIFICATION_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const config = parseConfig(sandbox.env, readServiceConfig);
  const connector = createVendorRegistry(config.vendors).connector('microsoft365');
  const descriptor = microsoftDescriptors.microsoft365;
  const scopes = [...descriptor.scopes.required, ...descriptor.scopes.optional];
  const redirectUri = `${api.publicUrl}/v1/oauth/callback/microsoft365`;
  const pkce = createPkcePair();
  const authorizeUrl = connector.authorizeUrl('microsoft365', {
    state: 'state-1',
    redirectUri,
    scopes,
    codeChallenge: pkce.challenge,
  });
  // The browser at the emulator's consent page, which redirects back with a code.
  const consent = await undiciFetch(authorizeUrl, {
    redirect: 'manual',
    dispatcher: createDispatcher(sandbox.env.MICROSOFT_CA_CERT),
  });
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'microsoft365' });
  const credential = await connector.exchangeCode('microsoft365', {
    code,
    redirectUri,
    codeVerifier: pkce.verifier,
    audit,
  });
  const callbackPath = `/v1/webhooks/microsoft365/${WORKSPACE_ID}/endpoint-1`;
  const subscriptions = await connector.registerWebhooks(
    {
      workspaceId: WORKSPACE_ID,
      integrationId: 'b0a7f3c2-5d1e-4f6a-8b9c-0d1e2f3a4b5c',
      vendor: 'microsoft365',
      credential,
      scopes: credential.grantedScopes,
      controls: {},
      audit,
    },
    { callbackUrl: `${api.publicUrl}${callbackPath}`, clientState: 'cs' },
  );
  expect(subscriptions.map((subscription) => subscription.resource).sort()).toEqual(['me/drive/root', 'me/events']);
  // Both handshakes reached the http API on its own callback path.
  expect(api.paths).toEqual([callbackPath, callbackPath]);
});

test('each added GitHub account has its own installation, chosen by its owner’s browser session at the installation page', async () => {
  const add = async () => {
    const response = await fetch(`${sandbox.urls.control}/github/accounts`, { method: 'POST' });
    expect(response.status).toBe(201);
    return (await response.json()) as {
      account: string;
      repositories: string[];
      installationId: number;
      sessionCookie: string;
    };
  };
  const [first, second] = [await add(), await add()];
  expect(first.installationId).not.toBe(second.installationId);
  expect(second.repositories).toEqual([`${second.account}/tower-a`, `${second.account}/tower-b`]);
  const installationOf = async (cookie?: string) => {
    const page = await fetch(`${sandbox.urls.github}/apps/trackproject-sandbox/installations/new?state=s`, {
      redirect: 'manual',
      ...(cookie ? { headers: { cookie } } : {}),
    });
    expect(page.status).toBe(302);
    return Number(new URL(page.headers.get('location')!).searchParams.get('installation_id'));
  };
  expect(await installationOf(first.sessionCookie)).toBe(first.installationId);
  expect(await installationOf(second.sessionCookie)).toBe(second.installationId);
  // No session: the default user's own account, the one `npm start` users connect.
  expect([first.installationId, second.installationId]).not.toContain(await installationOf());
});

test('the sandbox connects Procore: consent at its emulator, the code exchanged, a selected project read', async () => {
  const config = parseConfig(sandbox.env, readServiceConfig);
  const connector = createVendorRegistry(config.vendors).connector('procore');
  const redirectUri = `${api.publicUrl}/v1/oauth/callback/procore`;
  const consent = await fetch(
    connector.authorizeUrl('procore', { state: 'state-2', redirectUri, scopes: [PROCORE_READ] }),
    { redirect: 'manual' },
  );
  const callback = new URL(consent.headers.get('location')!);
  expect(callback.searchParams.get('state')).toBe('state-2');
  const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'procore' });
  const credential = await connector.exchangeCode('procore', {
    code: callback.searchParams.get('code')!,
    redirectUri,
    audit,
    requestedScopes: [PROCORE_READ],
  });
  // The admin's project picker: the company's projects, as Procore lists them.
  const projects = (await fetch(
    `${sandbox.urls.procore}/rest/v1.0/projects?company_id=${credential.metadata!.companyId}`,
    {
      headers: {
        authorization: `Bearer ${credential.accessToken}`,
        'procore-company-id': credential.metadata!.companyId!,
      },
    },
  ).then((response) => response.json())) as Array<{ id: number; name: string }>;
  expect(projects.map((p) => p.name)).toEqual(['Tower A', 'Depot', 'Head office fit-out']);
  const ctx = {
    workspaceId: WORKSPACE_ID,
    integrationId: 'sandbox-procore',
    vendor: 'procore' as const,
    credential,
    scopes: credential.grantedScopes,
    controls: { projects: [String(projects[0]!.id)] },
    audit,
  };
  const page = await connector.fetchPage(ctx, { resource: 'rfis', cursor: null });
  expect(page.records.length).toBeGreaterThan(0);
});

test('T21 [google-drive]: the sandbox configures Google: its picked files connect and sync, and Drive pushes to the http API', async () => {
  const config = parseConfig(sandbox.env, readServiceConfig);
  const connector = createVendorRegistry(config.vendors).connector('google-drive');
  const redirectUri = `${api.publicUrl}/v1/oauth/callback/google-drive`;
  const pkce = createPkcePair();
  const authorizeUrl = connector.authorizeUrl('google-drive', {
    state: 'state-google',
    redirectUri,
    scopes: ['drive.file'],
    codeChallenge: pkce.challenge,
  });
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'google-drive' });
  const credential = await connector.exchangeCode('google-drive', {
    code,
    redirectUri,
    codeVerifier: pkce.verifier,
    audit,
  });
  const picks = sandbox.urls.googlePickedFiles!.split(',');
  expect(picks).toHaveLength(3);
  const ctx = {
    workspaceId: WORKSPACE_ID,
    integrationId: 'c1b8a4d3-6e2f-4a7b-9c0d-1e2f3a4b5c6d',
    vendor: 'google-drive' as const,
    credential,
    scopes: credential.grantedScopes,
    controls: { files: picks },
    audit,
  };
  const first = await connector.fetchPage(ctx, { resource: 'picked-files', cursor: null });
  expect(first.records.map((record) => record.externalId).sort()).toEqual([...picks].sort());
  const callbackPath = `/v1/webhooks/google-drive/${WORKSPACE_ID}/endpoint-2`;
  const before = api.paths.length;
  await connector.registerWebhooks(ctx, { callbackUrl: `${api.publicUrl}${callbackPath}`, clientState: 'token' });
  await pollUntil(
    async () => api.paths.slice(before),
    (paths) => paths.includes(callbackPath),
  );
});

test.each([accDescriptor, docsDescriptor, tandemDescriptor])(
  'the sandbox connects $id: consent with PKCE at the APS emulator, the code exchanged, the connection tested, a selected project or facility read',
  async (descriptor) => {
    const config = parseConfig(sandbox.env, readServiceConfig);
    const connector = createVendorRegistry(config.vendors).connector(descriptor.id);
    const redirectUri = `${api.publicUrl}/v1/oauth/callback/${descriptor.id}`;
    const pkce = createPkcePair();
    const consent = await fetch(
      connector.authorizeUrl(descriptor.id, {
        state: 'state-3',
        redirectUri,
        scopes: descriptor.scopes.required,
        codeChallenge: pkce.challenge,
      }),
      { redirect: 'manual' },
    );
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe('state-3');
    const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: descriptor.id });
    const controls: Record<string, string[]> =
      descriptor.id === 'autodesk-tandem'
        ? { facilities: [sandbox.urls.autodeskFacility!] }
        : { hubs: [sandbox.urls.autodeskHub!], projects: sandbox.urls.autodeskProjects!.split(',') };
    const credential = await connector.exchangeCode(descriptor.id, {
      code: callback.searchParams.get('code')!,
      redirectUri,
      codeVerifier: pkce.verifier,
      audit,
      requestedScopes: descriptor.scopes.required,
      controls,
    });
    if (descriptor.id !== 'autodesk-tandem') expect(credential.metadata).toEqual({ hubId: sandbox.urls.autodeskHub });
    const ctx = {
      workspaceId: WORKSPACE_ID,
      integrationId: `sandbox-${descriptor.id}`,
      vendor: descriptor.id,
      credential,
      scopes: credential.grantedScopes,
      controls,
      audit,
    };
    await connector.testConnection(ctx);
    const first = descriptor.syncResources[0]!;
    const page = await connector.fetchPage(ctx, { resource: first, cursor: null });
    // The first selected project (in id order) or the facility.
    expect(page.records).toHaveLength(1);
    expect(['Tower A', 'Depot', 'Tower A plant room']).toContain(page.records[0]!.payload.name);
  },
);

test.each([
  ['okta', 'oktaSamlMetadata'],
  ['entra', 'entraSamlMetadata'],
] as const)(
  'T9 [%s]: the sandbox IdP has a SAML app for the API: its metadata is fetched as the worker fetches it, and its SSO signs an assertion for our entity id and ACS that the sign-in accepts',
  async (vendor, metadataKey) => {
    const config = parseConfig(sandbox.env, readServiceConfig);
    const connector = createVendorRegistry(config.vendors).connector(vendor);
    const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor });
    const metadataUrl = sandbox.urls[metadataKey]!;
    const idp = parseIdpMetadata(vendor, await connector.saml!.fetchMetadata(vendor, { url: metadataUrl, audit }));
    const sp = { entityId: samlEntityId(api.publicUrl), acsUrl: samlAcsUrl(api.publicUrl) };
    const { url, requestId } = await samlSignInUrl(idp, sp, 'relay-state');
    // The admin's browser at the IdP: the HTTP-POST binding's form, addressed to our ACS.
    // (Entra's emulator serves https with the sandbox's own CA, as the connector is configured to trust.)
    const html = await (await undiciFetch(url, { dispatcher: createDispatcher(sandbox.env.MICROSOFT_CA_CERT) })).text();
    expect(html).toContain(`action="${sp.acsUrl}"`);
    const samlResponse = /name="SAMLResponse" value="([^"]*)"/.exec(html)![1]!;
    const identity = await validateSamlResponse(vendor, {
      idp,
      sp,
      samlResponse,
      requestId,
      replay: createInMemorySamlReplayStore(),
    });
    expect(identity.subject).toBeTruthy();
  },
);
