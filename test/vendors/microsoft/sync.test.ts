/** Microsoft sync, data out and customer controls: Graph SDK against the emulated Graph. */
import { microsoftDescriptors } from '../../../activities/vendors/microsoft';
import { mapMicrosoftError } from '../../../activities/vendors/microsoft/errors';
import { createDispatcher, createGraphClient } from '../../../activities/vendors/microsoft/client';
import type { SyncPage, TokenSet } from '../../../activities/vendors/types';
import { failureOf, grantSiteToApp, graphRequestsSince, startMicrosoftHarness, type MicrosoftHarness } from './harness';

let harness: MicrosoftHarness;
beforeAll(async () => {
  harness = await startMicrosoftHarness();
});
afterAll(() => harness.stop());

/** Pages one delta round to its deltaLink, applying upserts and deletions to `cache` keyed by id. */
async function syncRound(
  ctx: Parameters<MicrosoftHarness['connector']['fetchPage']>[0],
  resource: string,
  cursor: string | null,
  cache: Map<string, unknown>,
) {
  const pages: SyncPage[] = [];
  let next = cursor;
  for (;;) {
    const page = await harness.connector.fetchPage(ctx, { resource, cursor: next });
    pages.push(page);
    for (const record of page.records) cache.set(record.externalId, record.version);
    for (const id of page.deletedExternalIds) cache.delete(id);
    next = page.nextCursor;
    if (page.roundComplete) return { pages, deltaLink: next! };
  }
}

describe('Microsoft 365 delta sync (T11)', () => {
  let tokens: TokenSet;
  beforeAll(async () => {
    ({ tokens } = await harness.connect('microsoft365'));
  });

  test('T11: initial delta pages through nextLinks to a deltaLink; incremental rounds carry changes and deleted facets; replay is idempotent', async () => {
    const { control } = harness.emulator;
    control.setDeltaPageSize(2);
    for (const name of ['a.pdf', 'b.dwg', 'c.pdf', 'd.xlsx', 'e.pdf'])
      await control.upsertItem('me/drive/root', { id: `item-${name}`, name, file: { mimeType: 'application/pdf' } });
    const ctx = harness.context('microsoft365', tokens);
    const cache = new Map<string, unknown>();
    const initial = await syncRound(ctx, 'drive-items', null, cache);
    expect(initial.pages.map((page) => page.records.length)).toEqual([2, 2, 1]);
    expect(initial.pages.map((page) => page.roundComplete)).toEqual([false, false, true]);
    expect(cache.size).toBe(5);

    await control.upsertItem('me/drive/root', { id: 'item-b.dwg', name: 'b.dwg', file: { mimeType: 'image/vnd.dwg' } });
    await control.deleteItem('me/drive/root', 'item-c.pdf');
    const incremental = await syncRound(ctx, 'drive-items', initial.deltaLink, cache);
    expect(incremental.pages.flatMap((page) => page.records.map((record) => record.externalId))).toEqual([
      'item-b.dwg',
    ]);
    expect(incremental.pages.flatMap((page) => page.deletedExternalIds)).toEqual(['item-c.pdf']);
    expect(cache.has('item-c.pdf')).toBe(false);
    expect(cache.get('item-b.dwg')).toMatch(/,2"$/);

    // Graph may replay the same changes: applying the same round again changes nothing.
    const snapshot = new Map(cache);
    const replay = await syncRound(ctx, 'drive-items', initial.deltaLink, cache);
    expect(replay.pages.flatMap((page) => page.records.map((record) => record.externalId))).toEqual(['item-b.dwg']);
    expect(cache).toEqual(snapshot);
  });

  test('T11: an expired delta token answers 410 → CursorExpired, and a cursor-less round resyncs fully', async () => {
    const ctx = harness.context('microsoft365', tokens);
    const cache = new Map<string, unknown>();
    const { deltaLink } = await syncRound(ctx, 'drive-items', null, cache);
    harness.emulator.control.expireDeltaTokens();
    const failure = await failureOf(harness.connector.fetchPage(ctx, { resource: 'drive-items', cursor: deltaLink }));
    expect(failure.type).toBe('CursorExpired');
    const resync = await syncRound(ctx, 'drive-items', null, new Map());
    expect(resync.pages.flatMap((page) => page.records).length).toBe(cache.size);
  });

  test('T11: calendar events sync by calendarView delta; deletions arrive as @removed', async () => {
    const { control } = harness.emulator;
    await control.upsertItem('me/events', {
      id: 'event-1',
      subject: 'Site walk',
      start: { dateTime: '2026-07-01T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-07-01T10:00:00', timeZone: 'UTC' },
    });
    await control.upsertItem('me/events', {
      id: 'event-2',
      subject: 'Pour',
      start: { dateTime: '2026-07-02T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-07-02T10:00:00', timeZone: 'UTC' },
    });
    const ctx = harness.context('microsoft365', tokens);
    const cache = new Map<string, unknown>();
    const first = await syncRound(ctx, 'calendar-events', null, cache);
    expect([...cache.keys()].sort()).toEqual(['event-1', 'event-2']);
    const initialRequest = harness.emulator.requests.find(
      (request) => request.path === '/v1.0/me/calendarView/delta' && request.query.startDateTime,
    );
    expect(initialRequest).toBeDefined();
    await control.deleteItem('me/events', 'event-1');
    const second = await syncRound(ctx, 'calendar-events', first.deltaLink, cache);
    expect(second.pages.flatMap((page) => page.deletedExternalIds)).toEqual(['event-1']);
    expect([...cache.keys()]).toEqual(['event-2']);
  });

  test('a stored cursor pointing anywhere but this resource on Graph is refused before the token is sent', async () => {
    const ctx = harness.context('microsoft365', tokens);
    const before = harness.emulator.requests.length;
    const failure = await failureOf(
      harness.connector.fetchPage(ctx, {
        resource: 'drive-items',
        cursor: `${harness.emulator.url}/v1.0/me/calendarView/delta?$deltatoken=x`,
      }),
    );
    expect(failure.type).toBe('OutsideCustomerControls');
    expect(harness.emulator.requests.length).toBe(before);
  });

  test('T19 [microsoft365]: Microsoft 365 sends notifications and document links by mail only when Mail.Send was granted', async () => {
    const ctx = harness.context('microsoft365', tokens);
    await harness.connector.perform(ctx, 'document-link', {
      to: ['pm@contoso.example'],
      subject: 'RFI 12',
      text: 'New revision',
      documentUrl: 'https://app.trackproject.example/d/1',
    });
    expect(harness.emulator.control.graph.sentMail.at(-1)).toMatchObject({
      message: { subject: 'RFI 12', toRecipients: [{ emailAddress: { address: 'pm@contoso.example' } }] },
    });
    const withoutMail = await harness.connect('microsoft365', { scopes: ['Files.Read', 'Calendars.Read'] });
    const before = harness.emulator.requests.length;
    const failure = await failureOf(
      harness.connector.perform(harness.context('microsoft365', withoutMail.tokens), 'notification', {
        to: ['pm@contoso.example'],
        subject: 's',
        text: 't',
      }),
    );
    expect(failure.type).toBe('MissingScope');
    expect(harness.emulator.requests.length).toBe(before);
    const notInMatrix = await failureOf(
      harness.connector.perform(ctx, 'report-export', { fileName: 'x.csv', contentBase64: '' }),
    );
    expect(notInMatrix.type).toBe('OutsideCustomerControls');
  });

  test('429 storms: a long Retry-After surfaces as RateLimited with retryAfterMs (no in-activity wait); a short one is retried by the SDK', async () => {
    const ctx = harness.context('microsoft365', tokens);
    const { control } = harness.emulator;
    let from = harness.emulator.requests.length;
    control.startThrottleStorm(5, 120);
    const failure = await failureOf(harness.connector.testConnection(ctx));
    expect(failure).toMatchObject({ type: 'RateLimited', retryAfterMs: 120_000 });
    expect(graphRequestsSince(harness.emulator, from)).toHaveLength(1);
    control.startThrottleStorm(0, 0);
    // The tenant's budget stays blocked for the 120 s: refused before reaching Graph.
    from = harness.emulator.requests.length;
    expect(await failureOf(harness.connector.testConnection(ctx))).toMatchObject({ type: 'RateLimited' });
    expect(graphRequestsSince(harness.emulator, from)).toHaveLength(0);
    harness.budgets.reset();

    from = harness.emulator.requests.length;
    control.startThrottleStorm(1, 1);
    await harness.connector.testConnection(ctx);
    expect(graphRequestsSince(harness.emulator, from).map((request) => request.status)).toEqual([429, 200]);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome, entry.errorClass])).toEqual([
      ['drive.get', 'failure', 'RateLimited'],
      ['drive.get', 'failure', 'RateLimited'],
      ['drive.get', 'success', undefined],
    ]);
  });
});

describe('SharePoint: admin-selected sites (T18)', () => {
  test('T18 [sharepoint]: a site outside the selection is refused before reaching Graph; a selected site works only once the admin granted it', async () => {
    const { control } = harness.emulator;
    control.seedSite('site-tower', 'Tower A');
    control.seedSite('site-hr', 'HR');
    await control.upsertItem('sites/site-tower/drive/root', {
      id: 'dwg-1',
      name: 'A-101.dwg',
      file: { mimeType: 'image/vnd.dwg' },
    });
    const { tokens } = await harness.connect('sharepoint');
    const ctx = harness.context('sharepoint', tokens, { sites: ['site-tower'] });

    const before = harness.emulator.requests.length;
    // A stored cursor naming a site the admin did not pick (forged, or from before a narrowing).
    const forged = JSON.stringify({ sites: ['site-hr'], index: 0, links: {}, inRound: true });
    const outside = await failureOf(harness.connector.fetchPage(ctx, { resource: 'site-drive-items', cursor: forged }));
    expect(outside.type).toBe('OutsideCustomerControls');
    const upload = await failureOf(
      harness.connector.perform(ctx, 'report-export', { siteId: 'site-hr', fileName: 'r.csv', contentBase64: 'YQ==' }),
    );
    expect(upload.type).toBe('OutsideCustomerControls');
    expect(harness.emulator.requests.length).toBe(before);
    expect(ctx.auditEntries.map((entry) => entry.errorClass)).toEqual([
      'OutsideCustomerControls',
      'OutsideCustomerControls',
    ]);

    // Sites.Selected grants nothing until the tenant admin grants this app the site.
    expect((await failureOf(harness.connector.testConnection(ctx))).type).toBe('MissingScope');
    expect(await grantSiteToApp(harness.emulator, 'site-tower')).toBe(201);
    await harness.connector.testConnection(ctx);
    const page = await harness.connector.fetchPage(ctx, { resource: 'site-drive-items', cursor: null });
    expect(page.records.map((record) => record.externalId)).toEqual(['site-tower/dwg-1']);
    expect(page.roundComplete).toBe(true);
    const result = await harness.connector.perform(ctx, 'report-export', {
      siteId: 'site-tower',
      fileName: 'weekly-report.csv',
      contentType: 'text/csv',
      contentBase64: Buffer.from('a,b\n1,2\n').toString('base64'),
    });
    expect(result.itemId).toBeTruthy();
    expect(control.items('sites/site-tower/drive/root').map((item) => item.name)).toContain('weekly-report.csv');
    // The HR site's drive is untouched.
    expect(control.items('sites/site-hr/drive/root')).toEqual([]);
  });
});

describe('OneDrive: app folder isolation (T18)', () => {
  test('T18 [onedrive]: exports land in the app folder; names that would leave it are refused before any request; sync reads only the app folder', async () => {
    const { control } = harness.emulator;
    const { tokens } = await harness.connect('onedrive');
    const ctx = harness.context('onedrive', tokens);
    await harness.connector.perform(ctx, 'app-folder-export', {
      fileName: 'export-2026-06.xlsx',
      contentBase64: Buffer.from('xlsx').toString('base64'),
    });
    expect(control.items('me/drive/special/approot').map((item) => item.name)).toEqual(['export-2026-06.xlsx']);
    const before = harness.emulator.requests.length;
    for (const fileName of ['../Documents/secret.docx', '..', 'a/b.txt', 'x:y']) {
      expect(
        (await failureOf(harness.connector.perform(ctx, 'app-folder-export', { fileName, contentBase64: '' }))).type,
      ).toBe('OutsideCustomerControls');
    }
    expect(harness.emulator.requests.length).toBe(before);
    const page = await harness.connector.fetchPage(ctx, { resource: 'app-folder-items', cursor: null });
    expect(page.records.map((record) => record.payload.name)).toEqual(['export-2026-06.xlsx']);
    // The app-folder token cannot read the rest of the drive, even if asked directly.
    expect((await failureOf(harness.connector.fetchPage(ctx, { resource: 'drive-items', cursor: null }))).type).toBe(
      'OutsideCustomerControls',
    );
  });
});

describe('SharePoint: the sync walks every selected site (T11, T18)', () => {
  test('T11 T18 [sharepoint]: one round pages each selected site to its delta link; the next round is incremental per site; unselected sites are never read', async () => {
    const { control } = harness.emulator;
    control.setDeltaPageSize(2);
    for (const siteId of ['walk-a', 'walk-b', 'walk-other']) {
      control.seedSite(siteId, siteId);
      control.graph.sites.get(siteId)!.grantedApps.add(harness.emulator.clientId);
      for (const n of [1, 2, 3])
        await control.upsertItem(`sites/${siteId}/drive/root`, {
          id: `doc-${n}`,
          name: `${siteId}-${n}.pdf`,
          file: { mimeType: 'application/pdf' },
        });
    }
    const { tokens } = await harness.connect('sharepoint');
    const ctx = harness.context('sharepoint', tokens, { sites: ['walk-a', 'walk-b'] });
    const cache = new Map<string, unknown>();
    const from = harness.emulator.requests.length;
    const first = await syncRound(ctx, 'site-drive-items', null, cache);
    expect(first.pages.map((page) => page.roundComplete)).toEqual([false, false, false, true]);
    expect([...cache.keys()].sort()).toEqual([
      'walk-a/doc-1',
      'walk-a/doc-2',
      'walk-a/doc-3',
      'walk-b/doc-1',
      'walk-b/doc-2',
      'walk-b/doc-3',
    ]);
    expect(graphRequestsSince(harness.emulator, from).some((request) => request.path.includes('walk-other'))).toBe(
      false,
    );

    await control.deleteItem('sites/walk-b/drive/root', 'doc-2');
    await control.upsertItem('sites/walk-a/drive/root', {
      id: 'doc-4',
      name: 'walk-a-4.pdf',
      file: { mimeType: 'application/pdf' },
    });
    const second = await syncRound(ctx, 'site-drive-items', first.deltaLink, cache);
    expect(second.pages.flatMap((page) => page.records.map((record) => record.externalId))).toEqual(['walk-a/doc-4']);
    expect(second.pages.flatMap((page) => page.deletedExternalIds)).toEqual(['walk-b/doc-2']);
    // Each site's stored link is a Graph delta link of that site: nothing else would be followed.
    const links = (JSON.parse(second.deltaLink) as { links: Record<string, string> }).links;
    expect(Object.keys(links).sort()).toEqual(['walk-a', 'walk-b']);
    for (const [siteId, link] of Object.entries(links))
      expect(link.startsWith(`${harness.emulator.url}/v1.0/sites/${siteId}/drive/root/delta?`)).toBe(true);
    const swapped = JSON.stringify({
      sites: ['walk-a'],
      index: 0,
      links: { 'walk-a': links['walk-b'] },
      inRound: true,
    });
    expect(
      (await failureOf(harness.connector.fetchPage(ctx, { resource: 'site-drive-items', cursor: swapped }))).type,
    ).toBe('OutsideCustomerControls');
  });
});

describe('Teams: admin-selected channels (T18, T19)', () => {
  test('T1: the matrix scopes (ChannelMessage.Send, Chat.ReadWrite) cannot read or subscribe to channels at Graph: 403 → MissingScope; Channel.ReadBasic.All can', async () => {
    const { control } = harness.emulator;
    control.seedChannel('team-perm', 'chan-1', 'One');
    const { tokens } = await harness.connect('teams');
    const endpoints = {
      graphBaseUrl: harness.emulator.url,
      loginBaseUrl: harness.emulator.url,
      caCert: harness.emulator.caCert,
    };
    const dispatcher = createDispatcher(harness.emulator.caCert);
    const typed = async (run: Promise<unknown>) =>
      failureOf(run.catch((error: unknown) => Promise.reject(mapMicrosoftError('teams', error))));
    const teamsClient = createGraphClient(endpoints, dispatcher, tokens.accessToken);
    expect((await typed(teamsClient.api('/teams/team-perm/channels/chan-1').get())).type).toBe('MissingScope');
    const subscription = {
      changeType: 'created,updated,deleted',
      notificationUrl: 'http://127.0.0.1:1/hook',
      resource: 'teams/team-perm/channels',
      expirationDateTime: new Date(control.now() + 60 * 60_000).toISOString(),
      clientState: 'cs',
    };
    expect((await typed(teamsClient.api('/subscriptions').post(subscription))).type).toBe('MissingScope');
    // The guard is the permission, not a blanket refusal: a Channel.ReadBasic.All token reads the channel.
    const channelReader = createGraphClient(endpoints, dispatcher, control.issueAccessToken(['Channel.ReadBasic.All']));
    expect(await channelReader.api('/teams/team-perm/channels/chan-1').get()).toMatchObject({
      id: 'chan-1',
      displayName: 'One',
    });
    // So the connector asks for neither: no sync resource, no subscription, and a test call its scopes allow.
    const ctx = harness.context('teams', tokens, { channels: ['team-perm/chan-1'] });
    const before = harness.emulator.requests.length;
    expect((await failureOf(harness.connector.fetchPage(ctx, { resource: 'channels', cursor: null }))).type).toBe(
      'OutsideCustomerControls',
    );
    expect(
      await harness.connector.registerWebhooks(ctx, { callbackUrl: 'http://127.0.0.1:1/hook', clientState: 'cs' }),
    ).toEqual([]);
    expect(harness.emulator.requests.length).toBe(before);
    await harness.connector.testConnection(ctx);
    expect(
      graphRequestsSince(harness.emulator, before).map(
        (request) => `${request.method} ${request.path} ${request.status}`,
      ),
    ).toEqual(['GET /v1.0/me/chats 200']);
  });

  test('T1 T18: OneDrive subscribes to nothing: Graph takes business-drive subscriptions at the root only, which the app-folder grant cannot read', async () => {
    const { control } = harness.emulator;
    const { tokens } = await harness.connect('onedrive');
    const endpoints = {
      graphBaseUrl: harness.emulator.url,
      loginBaseUrl: harness.emulator.url,
      caCert: harness.emulator.caCert,
    };
    const client = createGraphClient(endpoints, createDispatcher(harness.emulator.caCert), tokens.accessToken);
    const typed = async (run: Promise<unknown>) =>
      failureOf(run.catch((error: unknown) => Promise.reject(mapMicrosoftError('onedrive', error))));
    const subscribe = (resource: string) =>
      client.api('/subscriptions').post({
        changeType: 'updated',
        notificationUrl: 'http://127.0.0.1:1/hook',
        resource,
        expirationDateTime: new Date(control.now() + 60 * 60_000).toISOString(),
        clientState: 'cs',
      });
    expect((await typed(subscribe('me/drive/special/approot'))).type).toBe('VendorRejected');
    expect((await typed(subscribe('me/drive/root'))).type).toBe('MissingScope');
    const ctx = harness.context('onedrive', tokens);
    expect(
      await harness.connector.registerWebhooks(ctx, { callbackUrl: 'http://127.0.0.1:1/hook', clientState: 'cs' }),
    ).toEqual([]);
  });

  test('T18 T19 [teams]: messages go only to selected channels', async () => {
    const { control } = harness.emulator;
    control.seedChannel('team-1', 'chan-site', 'Site updates');
    control.seedChannel('team-1', 'chan-finance', 'Finance');
    const { tokens } = await harness.connect('teams');
    const ctx = harness.context('teams', tokens, { channels: ['team-1/chan-site'] });
    await harness.connector.perform(ctx, 'approval-request', {
      teamId: 'team-1',
      channelId: 'chan-site',
      html: '<b>Approve RFI 12?</b>',
    });
    expect(control.graph.channelMessages).toEqual([
      {
        teamId: 'team-1',
        channelId: 'chan-site',
        body: { body: { contentType: 'html', content: '<b>Approve RFI 12?</b>' } },
      },
    ]);
    const before = harness.emulator.requests.length;
    const failure = await failureOf(
      harness.connector.perform(ctx, 'channel-notification', {
        teamId: 'team-1',
        channelId: 'chan-finance',
        html: 'x',
      }),
    );
    expect(failure.type).toBe('OutsideCustomerControls');
    expect(harness.emulator.requests.length).toBe(before);
    expect(control.graph.channelMessages).toHaveLength(1);
  });
});

describe('Entra ID: identity in, nothing out (T19)', () => {
  test('T19 [entra]: every data-out action and every sync resource is refused for Entra, and the refusals are audited', async () => {
    const { tokens } = await harness.connect('entra');
    const ctx = harness.context('entra', tokens);
    await harness.connector.testConnection(ctx);
    const before = harness.emulator.requests.length;
    for (const action of ['notification', 'report-export', 'channel-notification', 'user-provision']) {
      expect((await failureOf(harness.connector.perform(ctx, action, {}))).type).toBe('OutsideCustomerControls');
    }
    expect(
      (await failureOf(harness.connector.fetchPage(ctx, { resource: 'directory-users', cursor: null }))).type,
    ).toBe('OutsideCustomerControls');
    expect(
      await harness.connector.registerWebhooks(ctx, { callbackUrl: 'http://127.0.0.1:1/hook', clientState: 'x' }),
    ).toEqual([]);
    expect(harness.emulator.requests.length).toBe(before);
    expect(ctx.auditEntries.map((entry) => [entry.outcome, entry.errorClass ?? null])).toEqual([
      ['success', null],
      ...Array(5).fill(['failure', 'OutsideCustomerControls']),
    ]);
  });
});

/**
 * Every data-out action any row (or no row) knows: a row may perform only its own, and every other
 * one must be refused before a request leaves, whatever the input names.
 */
const FOREIGN_DATA_OUT = [
  ...new Set([
    ...Object.values(microsoftDescriptors).flatMap((descriptor) => descriptor.dataOut),
    'user-provision',
    'mail-export',
    'calendar-event',
    'site-delete',
  ]),
];
/** Graph resources a drive row must never read (mail, calendar, directory, channels, another drive). */
const FOREIGN_RESOURCES = [
  'drive-items',
  'calendar-events',
  'site-drive-items',
  'app-folder-items',
  'mail-messages',
  'directory-users',
  'channels',
];

describe('SharePoint and OneDrive: data in and data out limited to the row (T19)', () => {
  test("T19 [sharepoint]: only report exports go out, to a selected site; only the selected sites' drive items come in; everything else is refused before Graph and audited", async () => {
    const { control } = harness.emulator;
    for (const siteId of ['t19-site', 't19-other']) {
      control.seedSite(siteId, siteId);
      expect(await grantSiteToApp(harness.emulator, siteId)).toBe(201);
      await control.upsertItem(`sites/${siteId}/drive/root`, {
        id: 'sheet-1',
        name: `${siteId}-A-101.pdf`,
        file: { mimeType: 'application/pdf' },
      });
    }
    const { tokens } = await harness.connect('sharepoint');
    const ctx = harness.context('sharepoint', tokens, { sites: ['t19-site'] });
    expect(microsoftDescriptors.sharepoint.dataOut).toEqual(['report-export']);

    // Data out: every action outside the row is refused before any request, even aimed at a selected site.
    const before = harness.emulator.requests.length;
    const refusedActions = FOREIGN_DATA_OUT.filter((action) => action !== 'report-export');
    for (const action of refusedActions) {
      const failure = await failureOf(
        harness.connector.perform(ctx, action, {
          siteId: 't19-site',
          fileName: 'x.csv',
          contentBase64: 'YQ==',
          to: ['pm@contoso.example'],
          teamId: 'team-1',
          channelId: 'chan-site',
        }),
      );
      expect(failure.type).toBe('OutsideCustomerControls');
    }
    // Data in: no resource but the selected sites' drive items is read.
    const refusedResources = FOREIGN_RESOURCES.filter((resource) => resource !== 'site-drive-items');
    for (const resource of refusedResources) {
      expect((await failureOf(harness.connector.fetchPage(ctx, { resource, cursor: null }))).type).toBe(
        'OutsideCustomerControls',
      );
    }
    expect(harness.emulator.requests.slice(before)).toEqual([]);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome, entry.errorClass])).toEqual([
      ...refusedActions.map((action) => [`data-out.${action}`, 'failure', 'OutsideCustomerControls']),
      ...refusedResources.map((resource) => [`delta.${resource}`, 'failure', 'OutsideCustomerControls']),
    ]);

    // What the row allows: drive items of the selected site in, a generated report out to it.
    const from = harness.emulator.requests.length;
    const page = await harness.connector.fetchPage(ctx, { resource: 'site-drive-items', cursor: null });
    expect(page.records.map((record) => [record.resource, record.externalId])).toEqual([
      ['site-drive-items', 't19-site/sheet-1'],
    ]);
    await harness.connector.perform(ctx, 'report-export', {
      siteId: 't19-site',
      fileName: 't19-report.csv',
      contentType: 'text/csv',
      contentBase64: Buffer.from('a,b\n').toString('base64'),
    });
    expect(
      graphRequestsSince(harness.emulator, from).map(
        (request) => `${request.method} ${request.path} ${request.status}`,
      ),
    ).toEqual([
      'GET /v1.0/sites/t19-site/drive/root/delta 200',
      'PUT /v1.0/sites/t19-site/drive/root:/t19-report.csv:/content 201',
    ]);
    expect(control.items('sites/t19-other/drive/root').map((item) => item.name)).toEqual(['t19-other-A-101.pdf']);
  });

  test("T19 [onedrive]: only exports to the app folder go out; only the app folder's files come in, on demand; everything else is refused before Graph and audited", async () => {
    const { control } = harness.emulator;
    await control.upsertItem('me/drive/root', { id: 't19-private', name: 'payroll.xlsx', file: { mimeType: 'x' } });
    await control.upsertItem('me/events', {
      id: 't19-event',
      subject: 'Private',
      start: { dateTime: '2026-07-01T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-07-01T10:00:00', timeZone: 'UTC' },
    });
    const { tokens } = await harness.connect('onedrive');
    const ctx = harness.context('onedrive', tokens);
    expect(microsoftDescriptors.onedrive.dataOut).toEqual(['app-folder-export']);

    const before = harness.emulator.requests.length;
    const refusedActions = FOREIGN_DATA_OUT.filter((action) => action !== 'app-folder-export');
    for (const action of refusedActions) {
      const failure = await failureOf(
        harness.connector.perform(ctx, action, {
          siteId: 'site-tower',
          fileName: 'x.csv',
          contentBase64: 'YQ==',
          to: ['pm@contoso.example'],
        }),
      );
      expect(failure.type).toBe('OutsideCustomerControls');
    }
    const refusedResources = FOREIGN_RESOURCES.filter((resource) => resource !== 'app-folder-items');
    for (const resource of refusedResources) {
      expect((await failureOf(harness.connector.fetchPage(ctx, { resource, cursor: null }))).type).toBe(
        'OutsideCustomerControls',
      );
    }
    // On demand: no subscription pushes anything in.
    expect(
      await harness.connector.registerWebhooks(ctx, { callbackUrl: 'http://127.0.0.1:1/hook', clientState: 'cs' }),
    ).toEqual([]);
    expect(harness.emulator.requests.slice(before)).toEqual([]);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome, entry.errorClass])).toEqual([
      ...refusedActions.map((action) => [`data-out.${action}`, 'failure', 'OutsideCustomerControls']),
      ...refusedResources.map((resource) => [`delta.${resource}`, 'failure', 'OutsideCustomerControls']),
    ]);

    const from = harness.emulator.requests.length;
    await harness.connector.perform(ctx, 'app-folder-export', {
      fileName: 't19-export.xlsx',
      contentBase64: Buffer.from('xlsx').toString('base64'),
    });
    const page = await harness.connector.fetchPage(ctx, { resource: 'app-folder-items', cursor: null });
    expect(page.records.map((record) => record.payload.name)).toContain('t19-export.xlsx');
    expect(page.records.every((record) => record.resource === 'app-folder-items')).toBe(true);
    expect(page.records.map((record) => record.payload.name)).not.toContain('payroll.xlsx');
    expect(
      graphRequestsSince(harness.emulator, from).map(
        (request) => `${request.method} ${request.path} ${request.status}`,
      ),
    ).toEqual([
      'PUT /v1.0/me/drive/special/approot:/t19-export.xlsx:/content 201',
      'GET /v1.0/me/drive/special/approot/delta 200',
    ]);
  });
});
