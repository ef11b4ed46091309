/**
 * APS connector (real `@aps_sdk/authentication`, `data-management`, `construction-issues` and the
 * shared REST client) against the APS emulator: OAuth v2 with PKCE, the hub and project selection,
 * the folder tree with JSON:API paging, issues with limit/offset and `filter[updatedAt]`, data out
 * behind the admin's switch, single-use refresh tokens, expiry, revocation, 429 + Retry-After,
 * hooks with per-hook secret tokens and their deletion at disconnect.
 */
import crypto from 'node:crypto';
import {
  APS_ACCOUNT_READ,
  APS_READ,
  APS_WRITE,
  accDescriptor,
  adskSignature,
  autodeskHookToken,
  docsDescriptor,
  tandemDescriptor,
  verifyAutodeskDelivery,
  DELIVERY_MAX_AGE_MS,
} from '../../../activities/vendors/autodesk';
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import { createPkcePair as pkcePair } from '../../../lib/oauth/pkce';
import { expectVendorError, fullRound, harnessForFile } from '../support/connectorTests';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, startAutodeskHarness, type AutodeskHarness } from './harness';

let harness: AutodeskHarness;

harnessForFile(startAutodeskHarness, (started) => (harness = started));

const apiRequests = () => harness.emulator.control.requests.filter((r) => !r.path.startsWith('/authentication/'));
/** Every project any API request since `from` named (Data Management or product id, path or query). */
function projectsRequested(from: number): string[] {
  return apiRequests()
    .slice(from)
    .flatMap((r) => {
      const inPath = /\/projects\/(?:b\.)?([0-9a-f-]{36})/i.exec(r.path)?.[1];
      const inFilter = r.query['filter[id]']?.split(',').map((id) => id.replace(/^b\./, ''));
      return [inPath, ...(inFilter ?? [])].filter((id): id is string => id !== undefined);
    })
    .map((id) => `b.${id.toLowerCase()}`);
}

describe('Autodesk connect', () => {
  test('T1 T5 [autodesk-acc, autodesk-docs, autodesk-tandem]: the authorize URL is APS OAuth v2 with the row’s exact scopes, our state and an S256 challenge; scopes beyond the row, or no challenge, are refused', () => {
    const { challenge } = pkcePair();
    for (const descriptor of [accDescriptor, docsDescriptor, tandemDescriptor]) {
      expect(descriptor.pkce).toBe(true);
      const url = new URL(
        harness.connector.authorizeUrl(descriptor.id, {
          state: 'state-123',
          redirectUri: REDIRECT_URI,
          scopes: descriptor.scopes.required,
          codeChallenge: challenge,
        }),
      );
      expect(url.pathname).toBe('/authentication/v2/authorize');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        client_id: CLIENT_ID,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        state: 'state-123',
        scope: descriptor.scopes.required.join(' '),
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
    }
    expect(() =>
      harness.connector.authorizeUrl('autodesk-docs', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [APS_READ, APS_ACCOUNT_READ, APS_WRITE],
        codeChallenge: challenge,
      }),
    ).toThrow(VendorError);
    expect(() =>
      harness.connector.authorizeUrl('autodesk-acc', { state: 's', redirectUri: REDIRECT_URI, scopes: [APS_READ] }),
    ).toThrow(VendorError);
  });

  test('T1 T5 T18 [autodesk-acc]: the code is redeemed with the PKCE verifier and our client in a Basic header; the grant is the consented scopes and the hub; a wrong verifier, an unknown hub or a project outside the hub is refused', async () => {
    const credential = await harness.connect();
    expect(credential.grantedScopes).toEqual([APS_READ, APS_WRITE]);
    expect(credential.metadata).toEqual({ hubId: harness.hubId });
    expect(credential.expiresAt! - harness.emulator.control.clock.now()).toBeLessThanOrEqual(3_600_000);
    const token = harness.emulator.control.requests.filter((r) => r.path === '/authentication/v2/token').at(-1)!;
    expect(token.headers.authorization).toBe(
      `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    );
    expect(token.body).toMatchObject({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI });
    expect((token.body as { code_verifier?: string }).code_verifier).toMatch(/^[\w-]{43}$/);
    // The hub check asks for the selected projects only.
    const filtered = apiRequests()
      .filter((r) => r.path.endsWith('/projects'))
      .at(-1)!;
    expect(projectsRequested(apiRequests().indexOf(filtered)).sort()).toEqual(harness.selection().sort());

    // A verifier that does not match the challenge.
    const { challenge } = pkcePair();
    const url = harness.connector.authorizeUrl('autodesk-acc', {
      state: 's',
      redirectUri: REDIRECT_URI,
      scopes: accDescriptor.scopes.required,
      codeChallenge: challenge,
    });
    const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const audit = async <T>(_call: unknown, run: () => Promise<T>) => run();
    await expectVendorError(
      harness.connector.exchangeCode('autodesk-acc', {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: pkcePair().verifier,
        audit,
        controls: { projects: harness.selection() },
      }),
      VendorFailureType.ReauthorizationRequired,
    );
    await expectVendorError(
      harness.connect({ controls: { projects: harness.selection(), hubs: [`b.${crypto.randomUUID()}`] } }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connect({ controls: { projects: [`b.${crypto.randomUUID()}`] } }),
      VendorFailureType.OutsideCustomerControls,
    );
    // A second hub: the admin must pick one.
    const second = harness.emulator.control.addHub('Acme Facilities');
    try {
      const error = await expectVendorError(harness.connect(), VendorFailureType.VendorRejected);
      expect(error.message).toContain('found 2');
      const picked = await harness.connect({ controls: { projects: harness.selection(), hubs: [harness.hubId] } });
      expect(picked.metadata).toEqual({ hubId: harness.hubId });
    } finally {
      harness.emulator.control.removeHub(second);
    }
  });
});

describe('Autodesk sync inside the selection', () => {
  let credential: Awaited<ReturnType<AutodeskHarness['connect']>>;
  beforeAll(async () => {
    credential = await harness.connect({ controls: { projects: harness.selection(), hubs: [harness.hubId] } });
  });

  test('T11 T18 [autodesk-acc]: documents walk the folder tree of the selected projects, JSON:API pages (page number and limit) following links.next, classified as BIM models, drawings and sheets; the unselected project is never requested', async () => {
    const { control } = harness.emulator;
    const { tower, depot, office } = harness.projects;
    const [projectFiles, plans] = tower.topFolders as [string, string];
    const level = control.addFolder(tower.id, projectFiles, 'Architecture');
    await control.addDocument(tower.id, level.id, 'Tower A.rvt');
    for (let n = 0; n < 205; n++) await control.addDocument(tower.id, plans, `A-${100 + n}.pdf`);
    await control.addDocument(tower.id, plans, 'A-500 Sheet', 'items:autodesk.bim360:Document');
    await control.addDocument(depot.id, depot.topFolders[0]!, 'Depot.dwg');
    await control.addDocument(office.id, office.topFolders[0]!, 'Office.rvt');
    const ctx = harness.context(credential);
    const from = apiRequests().length;

    const round = await fullRound(harness.connector, ctx, 'documents', null);
    expect(round.records).toHaveLength(1 + 205 + 1 + 1);
    expect(round.records.every((r) => r.resource === 'documents')).toBe(true);
    const kinds = (name: string) => round.records.find((r) => r.payload.name === name)?.payload.type;
    expect([kinds('Tower A.rvt'), kinds('A-100.pdf'), kinds('A-500 Sheet'), kinds('Depot.dwg')]).toEqual([
      'bim',
      'drawing',
      'sheet',
      'drawing',
    ]);
    const plansPages = apiRequests()
      .slice(from)
      .filter((r) => r.path.includes(encodeURIComponent(plans)) || r.path.includes(plans));
    expect(plansPages.map((r) => `${r.query['page[number]']}/${r.query['page[limit]']}`)).toEqual(['0/200', '1/200']);
    expect(projectsRequested(from)).not.toContain(office.id);
    expect(new Set(projectsRequested(from))).toEqual(new Set([tower.id, depot.id]));
    // T14: names and times only; no creator or user names.
    expect(Object.keys(round.records[0]!.payload).sort()).toEqual(
      ['lastModifiedTime', 'name', 'parentFolderId', 'projectId', 'type'].sort(),
    );
  });

  test('T11 T18 [autodesk-acc]: issues page with limit/offset; incremental rounds filter on updatedAt and return only changes, selected projects only', async () => {
    const { control } = harness.emulator;
    const { tower, depot, office } = harness.projects;
    const towerIssues = Array.from({ length: 230 }, (_u, n) => control.addIssue(tower.id, `Tower issue ${n}`));
    control.addIssue(depot.id, 'Depot issue');
    control.addIssue(office.id, 'Office issue');
    const ctx = harness.context(credential);
    const from = apiRequests().length;
    const initial = await fullRound(harness.connector, ctx, 'issues', null);
    expect(initial.records).toHaveLength(231);
    expect(initial.pages).toBe(3);
    const lists = apiRequests().slice(from);
    // The selected projects in id order: Tower A's 230 issues take two pages, the Depot's one.
    const pagesOf = (id: string) => (id === tower.id ? ['0/200', '200/200'] : ['0/200']);
    expect(lists.map((r) => `${r.query.offset}/${r.query.limit}`)).toEqual(harness.selection().sort().flatMap(pagesOf));
    expect(lists.every((r) => r.query['filter[updatedAt]'] === undefined)).toBe(true);
    // T14: no description, assignee or creator.
    expect(initial.records[0]!.payload.description).toBeUndefined();
    expect(initial.records[0]!.payload.assignedTo).toBeUndefined();

    control.clock.advance(10 * 60_000);
    control.updateIssue(towerIssues[7]!.id, { status: 'closed' });
    control.addIssue(office.id, 'Office issue late');
    const incrementalFrom = apiRequests().length;
    const incremental = await fullRound(harness.connector, ctx, 'issues', initial.cursor);
    expect(incremental.records.map((r) => r.externalId)).toEqual([towerIssues[7]!.id]);
    const ranges = apiRequests()
      .slice(incrementalFrom)
      .map((r) => r.query['filter[updatedAt]']);
    expect(ranges.every((range) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\.\.\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(range!))).toBe(true);
    expect(projectsRequested(from)).not.toContain(office.id);
  });

  test('T18 [autodesk-docs]: the Docs folder tree keeps folders and documents of the selected projects; a missing or malformed selection, or a resource outside the row, is refused before any call', async () => {
    const docs = await harness.connect({
      vendor: 'autodesk-docs',
      scopes: docsDescriptor.scopes.required,
      controls: { hubs: [harness.hubId], projects: [harness.projects.depot.id] },
    });
    const ctx = harness.context(docs, {
      vendor: 'autodesk-docs',
      controls: { hubs: [harness.hubId], projects: [harness.projects.depot.id] },
    });
    const from = apiRequests().length;
    const tree = await fullRound(harness.connector, ctx, 'folder-tree', null);
    expect(tree.records.filter((r) => r.payload.type === 'folder').map((r) => r.payload.name)).toEqual([
      'Project Files',
      'Plans',
    ]);
    expect(tree.records.some((r) => r.payload.name === 'Depot.dwg')).toBe(true);
    expect(new Set(projectsRequested(from))).toEqual(new Set([harness.projects.depot.id]));

    const before = apiRequests().length;
    const selections: Array<Record<string, string[]>> = [{}, { projects: [] }, { projects: ['b.12; DROP'] }];
    for (const controls of selections)
      await expectVendorError(
        harness.connector.fetchPage(harness.context(docs, { vendor: 'autodesk-docs', controls }), {
          resource: 'folder-tree',
          cursor: null,
        }),
        VendorFailureType.OutsideCustomerControls,
      );
    await expectVendorError(
      harness.connector.fetchPage(ctx, { resource: 'issues', cursor: null }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(apiRequests().length).toBe(before);
  });
});

describe('Autodesk data out (T19)', () => {
  test('T10 T18 T19 [autodesk-acc, autodesk-docs]: an issue or an RFI is created only when the admin enabled writes of it, and only in a selected project; Docs writes nothing; refusals happen before any call', async () => {
    const { control } = harness.emulator;
    const { tower, office } = harness.projects;
    const credential = await harness.connect();
    const enabled = harness.context(credential, {
      controls: { projects: harness.selection(), writes: ['issues', 'rfis'] },
    });
    const issue = await harness.connector.perform(enabled, 'issues', {
      projectId: tower.id,
      title: 'Cracked slab at grid C4',
      issueSubtypeId: 'subtype-defect',
    });
    expect(control.issues().find((i) => i.id === issue.externalId)).toMatchObject({ title: 'Cracked slab at grid C4' });
    const rfi = await harness.connector.perform(enabled, 'rfis', {
      projectId: tower.id,
      title: 'Anchor spacing',
      question: 'Confirm anchor spacing at level 3',
    });
    expect(control.rfis().map((r) => r.id)).toContain(rfi.externalId);
    expect(enabled.auditEntries.map((e) => `${e.action} ${e.scope} ${e.outcome}`)).toEqual([
      `issues ${APS_WRITE} success`,
      `rfis ${APS_WRITE} success`,
    ]);

    const before = apiRequests().length;
    const notEnabled = harness.context(credential, { controls: { projects: harness.selection(), writes: ['issues'] } });
    await expectVendorError(
      harness.connector.perform(notEnabled, 'rfis', { projectId: tower.id, title: 't', question: 'q' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(notEnabled, 'issues', { projectId: office.id, title: 't', issueSubtypeId: 's' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(notEnabled, 'submittals', { projectId: tower.id }),
      VendorFailureType.OutsideCustomerControls,
    );
    // Docs' scopes hold no write permission: refused whatever the input.
    const docs = harness.context(credential, { vendor: 'autodesk-docs', consented: [APS_READ, APS_ACCOUNT_READ] });
    await expectVendorError(
      harness.connector.perform(docs, 'updated-metadata', { projectId: tower.id }),
      VendorFailureType.MissingScope,
    );
    expect(apiRequests().length).toBe(before);
  });
});

describe('Autodesk tokens, limits and hooks', () => {
  test('T4 [autodesk-acc]: refresh tokens are single-use: a refresh returns a new pair; presenting the old one again is invalid_grant → ReauthorizationRequired, and ends the grant', async () => {
    const credential = await harness.connect();
    const refreshed = await harness.connector.refresh(harness.context(credential));
    expect(refreshed.refreshToken).toBeDefined();
    expect(refreshed.refreshToken).not.toBe(credential.refreshToken);
    expect(refreshed.metadata).toEqual(credential.metadata);
    await expectVendorError(
      harness.connector.refresh(harness.context(credential)),
      VendorFailureType.ReauthorizationRequired,
    );
    await expectVendorError(
      harness.connector.testConnection(harness.context(refreshed)),
      VendorFailureType.ReauthorizationRequired,
    );
  });

  test('an expired access token and a grant the user revoked at Autodesk are ReauthorizationRequired; a 429 is RateLimited with its Retry-After', async () => {
    const credential = await harness.connect();
    const ctx = harness.context(credential);
    await harness.connector.testConnection(ctx);
    harness.emulator.control.startStorm(1, 7);
    const limited = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.RateLimited);
    expect(limited.details.retryAfterMs).toBe(7_000);
    harness.emulator.control.clock.advance(61 * 60_000);
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    const fresh = await harness.connector.refresh(ctx);
    await harness.connector.testConnection(harness.context(fresh));
    harness.emulator.control.revokeConsent();
    await expectVendorError(
      harness.connector.testConnection(harness.context(fresh)),
      VendorFailureType.ReauthorizationRequired,
    );
  });

  test('T4 T18 T21 [autodesk-acc]: hooks go on the top folders of the selected projects only, each with its own token; APS signs callbacks with it; disconnect deletes our hooks (over every hooks page) and revokes the grant', async () => {
    const { control } = harness.emulator;
    const { tower, depot, office } = harness.projects;
    const credential = await harness.connect();
    const ctx = harness.context(credential);
    const endpointSecret = crypto.randomBytes(32).toString('hex');
    const callbackUrl = `https://api.example.test/v1/webhooks/autodesk-acc/${ctx.workspaceId}/${crypto.randomUUID()}`;
    // A registration repeated for the same endpoint, as an activity retry after a partial attempt would.
    const first = await harness.connector.registerWebhooks(ctx, { callbackUrl, clientState: endpointSecret });
    const subscriptions = await harness.connector.registerWebhooks(ctx, { callbackUrl, clientState: endpointSecret });
    // Two top folders × three events × two projects, once: the retry replaced the earlier hooks.
    expect(subscriptions).toHaveLength(12);
    expect(control.hooks().filter((hook) => hook.callbackUrl === callbackUrl)).toHaveLength(12);
    expect(subscriptions.map((s) => s.externalId)).not.toEqual(first.map((s) => s.externalId));
    const ours = control.hooks().filter((hook) => hook.callbackUrl === callbackUrl);
    expect(new Set(ours.map((hook) => hook.folder))).toEqual(new Set([...tower.topFolders, ...depot.topFolders]));
    expect(ours.some((hook) => office.topFolders.includes(hook.folder))).toBe(false);
    expect(ours.every((hook) => hook.token === autodeskHookToken(endpointSecret))).toBe(true);
    // Our secret never left us: only the derived token.
    expect(JSON.stringify(control.requests.map((r) => r.body))).not.toContain(endpointSecret);

    // A signed callback as APS sends it verifies; altered, stale or signed with another secret, it does not.
    const body = Buffer.from(
      JSON.stringify({ hook: { event: 'dm.version.added' }, payload: { modifiedTime: new Date().toISOString() } }),
    );
    const signed = {
      headers: { 'x-adsk-signature': adskSignature(autodeskHookToken(endpointSecret), body) },
      rawBody: body,
    };
    expect(verifyAutodeskDelivery(signed, endpointSecret)).toEqual([
      expect.objectContaining({ eventType: 'dm.version.added', sync: { resource: 'documents', full: false } }),
    ]);
    expect(verifyAutodeskDelivery(signed, 'another-secret')).toBeUndefined();
    expect(verifyAutodeskDelivery({ ...signed, rawBody: Buffer.from(`${body} `) }, endpointSecret)).toBeUndefined();
    expect(verifyAutodeskDelivery(signed, endpointSecret, Date.now() + DELIVERY_MAX_AGE_MS + 60_000)).toBeUndefined();

    const revokedBefore = control.revokedGrants();
    const result = await harness.connector.revoke(ctx);
    expect(result).toEqual({ revoked: true, note: accDescriptor.revocation.note });
    expect(control.hooks().filter((hook) => hook.callbackUrl === callbackUrl)).toEqual([]);
    expect(control.requests.filter((r) => r.path === '/webhooks/v1/hooks').length).toBeGreaterThan(1);
    expect(control.revokedGrants()).toBe(revokedBefore + 1);
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    // Deleting the stored subscriptions afterwards is harmless.
    await harness.connector.deleteSubscription(ctx, subscriptions[0]!);
  });
});

describe('Autodesk Tandem', () => {
  const tandemControls = (facilities: string[], writes: string[] = []) => ({ facilities, writes });

  test('T1 T5 T18 [autodesk-tandem]: connect checks every selected facility opens for the user (nothing else is asked); the connection test names missing service access and passes once the app is added', async () => {
    const { control } = harness.emulator;
    const plant = control.addFacility('Central plant', { service: true });
    const clinic = control.addFacility('Clinic');
    const foreign = control.addFacility('Someone else’s', { member: false });
    const credential = await harness.connect({
      vendor: 'autodesk-tandem',
      scopes: tandemDescriptor.scopes.required,
      controls: tandemControls([plant.id, clinic.id]),
    });
    expect(credential.grantedScopes).toEqual([APS_READ, APS_WRITE]);
    await expectVendorError(
      harness.connect({
        vendor: 'autodesk-tandem',
        scopes: tandemDescriptor.scopes.required,
        controls: tandemControls([plant.id, foreign.id]),
      }),
      VendorFailureType.OutsideCustomerControls,
    );
    const ctx = harness.context(credential, {
      vendor: 'autodesk-tandem',
      controls: tandemControls([plant.id, clinic.id]),
    });
    const missing = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.MissingScope);
    expect(missing.message).toContain('not a service user of 1 of 2 selected facilities');
    clinic.users[CLIENT_ID] = 'ReadWrite';
    await harness.connector.testConnection(ctx);
  });

  test('T11 T18 [autodesk-tandem]: facilities and the assets of their models are read for the selected facilities only, with names and parameters; a missing or malformed selection is refused before any call', async () => {
    const { control } = harness.emulator;
    const plant = control.addFacility('Plant room', { service: true });
    const other = control.addFacility('Not selected', { service: true });
    control.addAsset(plant.id, 'AHU-01', { 'z:5Q': 'Running' });
    control.addAsset(plant.id, 'Chiller-02', { 'z:5Q': 'Stopped' });
    control.addAsset(other.id, 'Boiler-09');
    const credential = await harness.connect({
      vendor: 'autodesk-tandem',
      scopes: tandemDescriptor.scopes.required,
      controls: tandemControls([plant.id]),
    });
    const ctx = harness.context(credential, { vendor: 'autodesk-tandem', controls: tandemControls([plant.id]) });
    const from = control.requests.length;
    const facilities = await fullRound(harness.connector, ctx, 'facilities', null);
    expect(facilities.records.map((r) => r.payload.name)).toEqual(['Plant room']);
    const assets = await fullRound(harness.connector, ctx, 'assets', null);
    expect(assets.records.map((r) => [r.payload.name, r.payload.parameters])).toEqual([
      ['AHU-01', { 'z:5Q': 'Running' }],
      ['Chiller-02', { 'z:5Q': 'Stopped' }],
    ]);
    const named = control.requests.slice(from).map((r) => decodeURIComponent(r.path));
    expect(named.some((path) => path.includes(other.id) || path.includes(other.models[0]!))).toBe(false);
    // Unchanged assets keep their version: the cache skips them.
    const again = await fullRound(harness.connector, ctx, 'assets', assets.cursor);
    expect(again.records.map((r) => r.version)).toEqual(assets.records.map((r) => r.version));

    const before = control.requests.length;
    const selections: Array<Record<string, string[]>> = [
      {},
      { facilities: [] },
      { facilities: ['urn:adsk.dtt:x; DROP'] },
    ];
    for (const controls of selections)
      await expectVendorError(
        harness.connector.fetchPage(harness.context(credential, { vendor: 'autodesk-tandem', controls }), {
          resource: 'assets',
          cursor: null,
        }),
        VendorFailureType.OutsideCustomerControls,
      );
    expect(control.requests.length).toBe(before);
  });

  test('T4 T10 T18 T19 [autodesk-tandem]: an asset status is written only when the admin enabled it, only in a selected facility and one of its models; the grant is revoked at disconnect', async () => {
    const { control } = harness.emulator;
    const plant = control.addFacility('Boiler house', { service: true });
    const other = control.addFacility('Warehouse', { service: true });
    const pump = control.addAsset(plant.id, 'Pump-03', { 'z:5Q': 'Running' });
    const credential = await harness.connect({
      vendor: 'autodesk-tandem',
      scopes: tandemDescriptor.scopes.required,
      controls: tandemControls([plant.id]),
    });
    const input = {
      facilityId: plant.id,
      modelId: plant.models[0]!,
      elementKey: pump.key,
      parameter: 'z:5Q',
      status: 'Under maintenance',
    };
    const enabled = harness.context(credential, {
      vendor: 'autodesk-tandem',
      controls: tandemControls([plant.id], ['asset-status']),
    });
    await expect(harness.connector.perform(enabled, 'asset-status', input)).resolves.toEqual({
      externalId: `${plant.models[0]}/${pump.key}`,
      parameter: 'z:5Q',
    });
    expect(control.asset(plant.models[0]!, pump.key)!.parameters['z:5Q']).toBe('Under maintenance');

    const before = control.requests.length;
    const notEnabled = harness.context(credential, { vendor: 'autodesk-tandem', controls: tandemControls([plant.id]) });
    await expectVendorError(
      harness.connector.perform(notEnabled, 'asset-status', input),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(enabled, 'asset-status', { ...input, facilityId: other.id }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(enabled, 'twin-sync-updates', { ...input, value: 'x' }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(control.requests.length).toBe(before);
    // A model of another facility, named under the selected one: refused after reading the facility, nothing written.
    await expectVendorError(
      harness.connector.perform(enabled, 'asset-status', { ...input, modelId: other.models[0]! }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(control.requests.slice(before).every((r) => !r.path.endsWith('/mutate'))).toBe(true);

    const revokedBefore = control.revokedGrants();
    await expect(harness.connector.revoke(enabled)).resolves.toEqual({
      revoked: true,
      note: tandemDescriptor.revocation.note,
    });
    expect(control.revokedGrants()).toBe(revokedBefore + 1);
    await expectVendorError(harness.connector.testConnection(enabled), VendorFailureType.ReauthorizationRequired);
  });
});
