/**
 * Procore connector (real @procore/js-sdk) against the Procore emulator: connect, paged and
 * incremental sync inside the project selection, data out, single-use refresh tokens, expiry,
 * revocation, rate limits (hourly window and 10-second spikes), hooks and triggers.
 */
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import {
  PROCORE_READ,
  PROCORE_STATUS_UPDATES,
  procoreDescriptor,
  procoreDestinationToken,
} from '../../../activities/vendors/procore';
import { expectVendorError, fullRound, harnessForFile } from '../support/connectorTests';
import { CLIENT_ID, REDIRECT_URI, startProcoreHarness, type ProcoreHarness } from './harness';

let harness: ProcoreHarness;

harnessForFile(startProcoreHarness, (started) => (harness = started));

const apiRequests = () => harness.emulator.control.requests.filter((r) => r.path.startsWith('/rest/'));
/** Every API request since `from` that named a project, by id (path or project_id in query/body). */
function projectsRequested(from: number): number[] {
  return apiRequests()
    .slice(from)
    .flatMap((r) => {
      const inPath = /\/projects\/(\d+)/.exec(r.path)?.[1];
      const inQuery = r.query.project_id;
      const inBody = (r.body as { project_id?: number } | undefined)?.project_id;
      return [inPath, inQuery, inBody].filter((id) => id !== undefined).map(Number);
    });
}

describe('Procore connect', () => {
  test('T1 T5 [procore]: the authorize URL is the SDK’s code grant to the exact redirect URI with our state, no scope and no PKCE (Procore documents none); permissions outside the row are refused', () => {
    expect(procoreDescriptor.pkce).toBe(false);
    expect(procoreDescriptor.scopes).toEqual({ required: [PROCORE_READ], optional: [PROCORE_STATUS_UPDATES] });
    const url = new URL(
      harness.connector.authorizeUrl('procore', {
        state: 'state-123',
        redirectUri: REDIRECT_URI,
        scopes: [PROCORE_READ],
        codeChallenge: 'ignored',
      }),
    );
    expect(url.pathname).toBe('/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      state: 'state-123',
    });
    expect(() =>
      harness.connector.authorizeUrl('procore', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [PROCORE_READ, 'Admin everything'],
      }),
    ).toThrow(VendorError);
  });

  test('T1 [procore]: the code exchange (JSON, via the SDK) records exactly the consented permissions and the grant’s one company; a grant reaching two companies is refused', async () => {
    const credential = await harness.connect([PROCORE_READ]);
    expect(credential.grantedScopes).toEqual([PROCORE_READ]);
    expect(credential.metadata).toEqual({
      companyId: String(harness.emulator.control.companyId),
      redirectUri: REDIRECT_URI,
    });
    expect(credential.expiresAt! - harness.emulator.control.clock.now()).toBeLessThanOrEqual(5_400_000);
    const token = harness.emulator.control.requests.filter((r) => r.path === '/oauth/token').at(-1)!;
    expect(String(token.headers['content-type'])).toContain('application/json');
    expect(token.body).toMatchObject({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI });
    // The companies call carries no company header; every later API call does.
    const companies = apiRequests()
      .filter((r) => r.path === '/rest/v1.0/companies')
      .at(-1)!;
    expect(companies.headers['procore-company-id']).toBeUndefined();

    const second = harness.emulator.control.addCompany('Acme Facilities');
    try {
      const error = await expectVendorError(harness.connect(), VendorFailureType.VendorRejected);
      expect(error.message).toContain('found 2');
    } finally {
      harness.emulator.control.removeCompany(second);
    }
  });
});

describe('Procore sync inside the project selection', () => {
  test('T11 T18 [procore]: RFIs page with page/per_page following Link (Total announced); incremental rounds ask filters[updated_at] and return only changes; the unselected project is never requested', async () => {
    const { control } = harness.emulator;
    const { tower, depot, office } = harness.projects;
    const towerRfis = Array.from({ length: 230 }, (_u, n) =>
      control.addItem(tower.id, 'rfis', { number: String(n), subject: `Tower RFI ${n}`, status: 'open' }),
    );
    control.addItem(depot.id, 'rfis', { number: '1', subject: 'Depot RFI', status: 'open' });
    control.addItem(office.id, 'rfis', { number: '1', subject: 'Office RFI', status: 'open' });
    const ctx = harness.context(await harness.connect());
    const from = apiRequests().length;

    const initial = await fullRound(harness.connector, ctx, 'rfis', null);
    expect(initial.pages).toBe(4); // 100 + 100 + 30 in Tower A, 1 in Depot
    expect(initial.records).toHaveLength(231);
    expect(new Set(initial.records.map((r) => r.externalId)).size).toBe(231);
    // T14: only the fields a linked RFI needs; the creator (a person) never enters the cache.
    expect(Object.keys(initial.records[0]!.payload).sort()).toEqual(
      ['created_at', 'due_date', 'id', 'number', 'project_id', 'status', 'subject', 'updated_at'].filter(
        (key) => key !== 'due_date',
      ),
    );
    const lists = apiRequests().slice(from);
    expect(lists.map((r) => `${r.path}?page=${r.query.page}`)).toEqual([
      `/rest/v1.0/projects/${tower.id}/rfis?page=1`,
      `/rest/v1.0/projects/${tower.id}/rfis?page=2`,
      `/rest/v1.0/projects/${tower.id}/rfis?page=3`,
      `/rest/v1.0/projects/${depot.id}/rfis?page=1`,
    ]);
    expect(lists[0]!.responseHeaders.total).toBe('230');
    expect(
      lists.every((r) => r.query.per_page === '100' && r.headers['procore-company-id'] === String(control.companyId)),
    ).toBe(true);
    expect(lists.every((r) => r.query['filters[updated_at]'] === undefined)).toBe(true);

    control.clock.advance(60_000);
    control.updateItem(towerRfis[7]!.id, { subject: 'Tower RFI 7 answered' });
    control.addItem(office.id, 'rfis', { number: '2', subject: 'Office RFI late' });
    const incrementalFrom = apiRequests().length;
    const incremental = await fullRound(harness.connector, ctx, 'rfis', initial.cursor);
    // The overlap re-reads the last 5 minutes; what it already returned is dropped: only the edit comes back.
    expect(incremental.records.map((r) => r.payload.subject)).toEqual(['Tower RFI 7 answered']);
    const ranges = apiRequests()
      .slice(incrementalFrom)
      .map((r) => r.query['filters[updated_at]']);
    expect(
      ranges.every((range) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.\.\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(range!)),
    ).toBe(true);

    // Later, with the overlap passed: only the change comes back.
    control.clock.advance(10 * 60_000);
    const edited = control.updateItem(towerRfis[9]!.id, { subject: 'Tower RFI 9 answered' });
    const later = await fullRound(harness.connector, ctx, 'rfis', incremental.cursor);
    expect(later.records.map((r) => r.externalId)).toEqual([String(edited.id)]);
    expect(projectsRequested(from)).not.toContain(office.id);
    expect(new Set(projectsRequested(from))).toEqual(new Set([tower.id, depot.id]));
  });

  test('T18 [procore]: projects, drawings and daily logs are read project by project, only the selected ones; a missing or malformed selection is refused before any call', async () => {
    const { control } = harness.emulator;
    const { tower, office } = harness.projects;
    control.addItem(tower.id, 'drawings', { number: 'A-101', title: 'Level 1', discipline: 'A' });
    control.addItem(office.id, 'drawings', { number: 'X-1', title: 'Office', discipline: 'A' });
    control.addItem(tower.id, 'notes_logs', { date: '2026-11-30', comment: 'Pour complete' });
    const credential = await harness.connect();
    const ctx = harness.context(credential, { controls: { projects: [String(tower.id)] } });
    const from = apiRequests().length;
    const projects = await fullRound(harness.connector, ctx, 'projects', null);
    expect(projects.records.map((r) => r.payload.name)).toEqual(['Tower A']);
    const drawings = await fullRound(harness.connector, ctx, 'drawings', null);
    expect(drawings.records.map((r) => r.payload.title)).toEqual(['Level 1']);
    const logs = await fullRound(harness.connector, ctx, 'daily-logs', null);
    expect(logs.records.map((r) => r.payload.date)).toEqual(['2026-11-30']);
    // The note's text stays at Procore (T14).
    expect(logs.records[0]!.payload.comment).toBeUndefined();
    expect(projectsRequested(from)).toEqual([tower.id, tower.id, tower.id]);

    const before = apiRequests().length;
    const selections: Array<Record<string, string[]>> = [{}, { projects: [] }, { projects: ['12; DROP'] }];
    for (const controls of selections)
      await expectVendorError(
        harness.connector.fetchPage(harness.context(credential, { controls }), { resource: 'rfis', cursor: null }),
        VendorFailureType.OutsideCustomerControls,
      );
    await expectVendorError(
      harness.connector.fetchPage(ctx, { resource: 'submittals', cursor: null }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(apiRequests().length).toBe(before);
  });
});

describe('Procore data out (T19)', () => {
  test('T10 T18 T19 [procore]: an RFI status update is made only with the optional permission granted and only in a selected project; refusals happen before any call and are audited', async () => {
    const { control } = harness.emulator;
    const { tower, office } = harness.projects;
    const rfi = control.addItem(tower.id, 'rfis', { number: '900', subject: 'Door hardware', status: 'open' });
    const officeRfi = control.addItem(office.id, 'rfis', { number: '901', subject: 'Office', status: 'open' });
    const withWrites = await harness.connect([PROCORE_READ, PROCORE_STATUS_UPDATES]);
    const input = { projectId: String(tower.id), rfiId: String(rfi.id), status: 'closed' };

    const ctx = harness.context(withWrites);
    await expect(harness.connector.perform(ctx, 'status-update', input)).resolves.toEqual({
      externalId: String(rfi.id),
      status: 'closed',
    });
    expect(control.item(rfi.id)!.fields.status).toBe('closed');
    expect(ctx.auditEntries.at(-1)).toMatchObject({
      action: 'status-update',
      scope: PROCORE_STATUS_UPDATES,
      outcome: 'success',
    });

    const before = apiRequests().length;
    // Not enabled: the read-only consent refuses the write on the audited path.
    const readOnly = harness.context(withWrites, { consented: [PROCORE_READ] });
    await expectVendorError(
      harness.connector.perform(readOnly, 'status-update', input),
      VendorFailureType.MissingScope,
    );
    expect(readOnly.auditEntries.at(-1)).toMatchObject({ outcome: 'denied', scope: PROCORE_STATUS_UPDATES });
    // Outside the selection, or outside the data-out list.
    const outside = harness.context(withWrites);
    await expectVendorError(
      harness.connector.perform(outside, 'status-update', {
        ...input,
        projectId: String(office.id),
        rfiId: String(officeRfi.id),
      }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(outside, 'create-rfi', input),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(outside, 'status-update', { ...input, status: 'deleted' }),
      VendorFailureType.VendorRejected,
    );
    expect(outside.auditEntries.map((e) => e.outcome)).toEqual(['failure', 'failure', 'failure']);
    expect(apiRequests().length).toBe(before);
    expect(control.item(officeRfi.id)!.fields.status).toBe('open');
  });
});

describe('Procore tokens and limits', () => {
  test('refresh tokens are single-use: a refresh returns a new pair; presenting the old refresh token again is invalid_grant → ReauthorizationRequired', async () => {
    const credential = await harness.connect();
    const refreshed = await harness.connector.refresh(harness.context(credential));
    expect(refreshed.refreshToken).toBeDefined();
    expect(refreshed.refreshToken).not.toBe(credential.refreshToken);
    expect(refreshed.metadata).toEqual(credential.metadata);
    await expectVendorError(
      harness.connector.refresh(harness.context(credential)),
      VendorFailureType.ReauthorizationRequired,
    );
    const reuse = harness.emulator.control.requests.filter((r) => r.path === '/oauth/token').at(-1)!;
    expect(reuse.status).toBe(400);
  });

  test('an expired access token (5,400 s) gets 401 → ReauthorizationRequired', async () => {
    const ctx = harness.context(await harness.connect());
    harness.emulator.control.clock.advance(5_401_000);
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
  });

  test('a revoked grant (the user removes the app) gets 401 → ReauthorizationRequired, for calls and refreshes alike', async () => {
    const credential = await harness.connect();
    harness.emulator.control.revokeConsent();
    await expectVendorError(
      harness.connector.fetchPage(harness.context(credential), { resource: 'rfis', cursor: null }),
      VendorFailureType.ReauthorizationRequired,
    );
    await expectVendorError(
      harness.connector.refresh(harness.context(credential)),
      VendorFailureType.ReauthorizationRequired,
    );
  });

  test('T10: a 10-second spike 429 surfaces as RateLimited with Retry-After’s wait, audited', async () => {
    const ctx = harness.context(await harness.connect());
    harness.emulator.control.startSpike(1);
    const error = await expectVendorError(
      harness.connector.fetchPage(ctx, { resource: 'rfis', cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(error.details.retryAfterMs).toBe(10_000);
    expect(ctx.auditEntries.at(-1)).toMatchObject({ outcome: 'failure', errorClass: VendorFailureType.RateLimited });
  });

  test('the hourly window is respected: once X-Rate-Limit-Remaining reaches 0 no call is made until X-Rate-Limit-Reset', async () => {
    const { control } = harness.emulator;
    const ctx = harness.context(await harness.connect());
    // The grant's window already counts the connect's companies call.
    control.setHourlyLimit(3);
    try {
      await harness.connector.testConnection(ctx);
      await harness.connector.testConnection(ctx); // remaining: 0
      const before = apiRequests().length;
      const error = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.RateLimited);
      expect(apiRequests().length).toBe(before);
      expect(error.details.retryAfterMs).toBeGreaterThan(59 * 60_000);
      expect(error.details.retryAfterMs).toBeLessThanOrEqual(60 * 60_000 + 1000);
      control.clock.advance(60 * 60_000 + 1000);
      await harness.connector.testConnection(ctx);
    } finally {
      control.setHourlyLimit(3600);
    }
  });
});

describe('Procore hooks and revocation', () => {
  test('T18 T21 [procore]: one hook per selected project with our destination header token (never the secret) and create/update/delete triggers', async () => {
    const { control } = harness.emulator;
    const { tower, depot, office } = harness.projects;
    const ctx = harness.context(await harness.connect());
    const secret = 'endpoint-secret-abc';
    const callbackUrl = `https://api.test/v1/webhooks/procore/${ctx.workspaceId}/${'0'.repeat(8)}-0000-4000-8000-000000000000`;
    const subscriptions = await harness.connector.registerWebhooks(ctx, { callbackUrl, clientState: secret });
    expect(subscriptions.map((s) => s.externalId.split('/')[0])).toEqual([String(tower.id), String(depot.id)]);
    const hooks = control.hooks().filter((hook) => hook.destinationUrl === callbackUrl);
    expect(hooks.map((hook) => hook.projectId)).toEqual([tower.id, depot.id]);
    for (const hook of hooks) {
      expect(hook.destinationHeaders).toEqual({ Authorization: `Bearer ${procoreDestinationToken(secret)}` });
      expect(JSON.stringify(hook.destinationHeaders)).not.toContain(secret);
      expect(hook.triggers.map((t) => `${t.resourceName}:${t.eventType}`)).toEqual(
        expect.arrayContaining(['RFIs:create', 'RFIs:update', 'RFIs:delete', 'Drawings:update', 'Notes Logs:delete']),
      );
    }
    expect(control.hooks().some((hook) => hook.projectId === office.id)).toBe(false);
    // Hooks never expire: renewal is not a vendor call.
    const before = apiRequests().length;
    await expect(harness.connector.renewSubscription(ctx, subscriptions[0]!)).resolves.toEqual(subscriptions[0]);
    expect(apiRequests().length).toBe(before);
    await harness.connector.deleteSubscription(ctx, subscriptions[0]!);
    expect(control.hooks().filter((hook) => hook.destinationUrl === callbackUrl)).toHaveLength(1);
  });

  test('T4 [procore]: revoke deletes our hooks with the live token, then /oauth/revoke ends access and refresh token; deleting a hook afterwards is done, calls get 401', async () => {
    const { control } = harness.emulator;
    const credential = await harness.connect();
    const ctx = harness.context(credential);
    const callbackUrl = `https://api.test/v1/webhooks/procore/${ctx.workspaceId}/11111111-1111-4111-8111-111111111111`;
    const subscriptions = await harness.connector.registerWebhooks(ctx, { callbackUrl, clientState: 's' });
    // Another workspace's hook on the same project stays.
    const other = harness.context(await harness.connect());
    await harness.connector.registerWebhooks(other, {
      callbackUrl: `https://api.test/v1/webhooks/procore/${other.workspaceId}/22222222-2222-4222-8222-222222222222`,
      clientState: 't',
    });
    const revokedBefore = control.revokedTokens();
    await expect(harness.connector.revoke(ctx)).resolves.toEqual({
      revoked: true,
      note: procoreDescriptor.revocation.note,
    });
    expect(control.revokedTokens()).toBe(revokedBefore + 1);
    expect(control.hooks().filter((hook) => hook.destinationUrl === callbackUrl)).toEqual([]);
    expect(control.hooks().filter((hook) => hook.destinationUrl.includes(other.workspaceId))).toHaveLength(2);
    const revoke = control.requests.filter((r) => r.path === '/oauth/revoke').at(-1)!;
    expect(revoke.body).toMatchObject({ client_id: CLIENT_ID, token: credential.accessToken });
    await harness.connector.deleteSubscription(ctx, subscriptions[0]!);
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    await expectVendorError(harness.connector.refresh(ctx), VendorFailureType.ReauthorizationRequired);
    expect(ctx.auditEntries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['webhooks.register', 'webhooks.delete', 'oauth.revoke']),
    );
  });
});
