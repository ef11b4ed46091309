/**
 * The Google Drive connector (real `@googleapis/drive` + `google-auth-library`) against the Google
 * emulator: PKCE connect, drive.file sync over the picks and the changes feed, throttling, token
 * expiry and revocation, data out into a picked folder, push channels.
 */
import type { ConnectorContext, SyncPage, TokenSet } from '../../../activities/vendors/types';
import { GOOGLE_SCOPE_URIS } from '../../../activities/vendors/google';
import { failureOf, startGoogleHarness, type GoogleHarness } from './harness';

let harness: GoogleHarness;
let tokens: TokenSet;
beforeAll(async () => {
  harness = await startGoogleHarness();
  ({ tokens } = await harness.connect('google-drive'));
});
afterAll(() => harness.stop());

/** Pages one round to its end (or `maxPages`), as the sync workflow does. */
async function round(ctx: ConnectorContext, cursor: string | null, maxPages = 20) {
  const pages: SyncPage[] = [];
  for (let n = 0; n < maxPages; n++) {
    const page = await harness.connector.fetchPage(ctx, { resource: 'picked-files', cursor });
    pages.push(page);
    cursor = page.nextCursor;
    if (page.roundComplete) break;
  }
  return {
    pages,
    cursor,
    records: pages.flatMap((p) => p.records.map((r) => `${r.externalId}:${String(r.payload.name)}`)),
    deleted: pages.flatMap((p) => p.deletedExternalIds),
  };
}

describe('Google Drive connector', () => {
  test('T1 T5 [google-drive]: the authorize URL asks drive.file only, with an S256 challenge and offline access; the grant is recorded as drive.file', async () => {
    const { tokens: fresh, authorizeUrl } = await harness.connect('google-drive');
    expect(authorizeUrl.pathname).toBe('/o/oauth2/v2/auth');
    expect(authorizeUrl.searchParams.get('scope')).toBe(GOOGLE_SCOPE_URIS['drive.file']);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorizeUrl.searchParams.get('access_type')).toBe('offline');
    // Incremental authorization would fold older, broader grants into this one (T1).
    expect(authorizeUrl.searchParams.has('include_granted_scopes')).toBe(false);
    expect(fresh.grantedScopes).toEqual(['drive.file']);
    expect(fresh.refreshToken).toBeTruthy();
    const exchange = harness.requestsTo(/^\/token$/).at(-1)!;
    expect(exchange.body).toMatchObject({ grant_type: 'authorization_code', code_verifier: expect.any(String) });
    expect(() =>
      harness.connector.authorizeUrl('google-drive', {
        state: 's',
        redirectUri: 'https://app.example.test/cb',
        scopes: ['drive.file', 'drive.readonly'],
        codeChallenge: 'x'.repeat(43),
      }),
    ).toThrow(/differ from the matrix row/);
  });

  test('T18 T19 [google-drive]: a round reads the picks by id only, then the changes feed; a file that was not picked is never requested', async () => {
    const { control } = harness.emulator;
    const [a, b, secret] = ['A-101.pdf', 'A-102.pdf', 'HR-salaries.xlsx'].map((name) => control.addFile({ name }));
    // The user picked a, b and `late` in the Picker; the web app handed us a and b only.
    const late = control.addFile({ name: 'late-pick.pdf' });
    control.pick([a!, b!, late]);
    const ctx = harness.context('google-drive', tokens, { files: [a!, b!] });
    const since = harness.emulator.requests.length;
    const first = await round(ctx, null);
    expect(first.records.sort()).toEqual([`${a}:A-101.pdf`, `${b}:A-102.pdf`].sort());
    expect(first.pages.at(-1)!.roundComplete).toBe(true);

    control.renameFile(a!, 'A-101 rev B.pdf');
    control.renameFile(late, 'late-pick rev B.pdf');
    control.renameFile(secret!, 'HR-salaries 2027.xlsx');
    const second = await round(ctx, first.cursor);
    expect(second.records).toEqual([`${a}:A-101 rev B.pdf`]);

    const fileReads = harness.requestsTo(/^\/drive\/v3\/files\//, since).map((r) => r.path.split('/').pop());
    expect(new Set(fileReads)).toEqual(new Set([a, b]));
    // Never listed, never searched: drive.file cannot list folders the user did not pick, and we do not try.
    expect(harness.requestsTo(/^\/drive\/v3\/files$/, since)).toEqual([]);
    for (const unpicked of [secret, late])
      expect(harness.emulator.requests.some((r) => r.path.includes(unpicked!))).toBe(false);
    expect(ctx.auditEntries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['changes.start-page-token', 'files.get', 'changes.list']),
    );
  });

  test('T11 [google-drive]: the changes feed pages by nextPageToken to newStartPageToken; removed (deleted or access lost) is a deletion', async () => {
    const { control } = harness.emulator;
    const [kept, gone, unshared] = ['kept.pdf', 'gone.pdf', 'unshared.pdf'].map((name) => control.addFile({ name }));
    control.pick([kept!, gone!, unshared!]);
    const ctx = harness.context('google-drive', tokens, { files: [kept!, gone!, unshared!] });
    const first = await round(ctx, null);
    expect(first.records).toHaveLength(3);
    for (let n = 0; n < 120; n++) control.renameFile(kept!, `kept v${n}.pdf`);
    control.deleteFile(gone!);
    control.loseAccess(unshared!);
    const since = harness.emulator.requests.length;
    const second = await round(ctx, first.cursor);
    const lists = harness.requestsTo(/^\/drive\/v3\/changes$/, since);
    expect(lists.length).toBe(2);
    expect(lists.every((r) => r.query.includeRemoved === 'true')).toBe(true);
    expect(second.pages.map((p) => p.roundComplete)).toEqual([false, true]);
    expect(second.records.at(-1)).toBe(`${kept}:kept v119.pdf`);
    expect(second.deleted.sort()).toEqual([gone, unshared].sort());
    // The next round starts from newStartPageToken: nothing new.
    const third = await round(ctx, second.cursor);
    expect(third.records).toEqual([]);
    expect(third.deleted).toEqual([]);
  });

  test('[google-drive]: a pick that is gone by the first round is a deletion, not an error', async () => {
    const { control } = harness.emulator;
    const file = control.addFile({ name: 'withdrawn.pdf' });
    control.pick([file]);
    control.deleteFile(file);
    const first = await round(harness.context('google-drive', tokens, { files: [file] }), null);
    expect(first.deleted).toEqual([file]);
  });

  test.each(['429', 'userRateLimitExceeded', 'rateLimitExceeded'] as const)(
    'T12 [google-drive]: Drive throttling (%s) is RateLimited with the Retry-After wait',
    async (kind) => {
      harness.emulator.control.throttle(1, kind, 7);
      const failure = await failureOf(round(harness.context('google-drive', tokens), null));
      expect(failure).toMatchObject({ type: 'RateLimited', retryAfterMs: 7_000 });
    },
  );

  test('T8 [google-drive]: an expired access token is ReauthorizationRequired until refreshed; Google keeps the refresh token', async () => {
    const { tokens: own } = await harness.connect('google-drive');
    harness.emulator.control.clock.advance(3_600_000);
    try {
      const ctx = harness.context('google-drive', own);
      expect(await failureOf(harness.connector.testConnection(ctx))).toMatchObject({ type: 'ReauthorizationRequired' });
      const refreshed = await harness.connector.refresh(ctx);
      expect(refreshed.accessToken).not.toBe(own.accessToken);
      expect(refreshed.refreshToken).toBe(own.refreshToken);
      expect(refreshed.grantedScopes).toEqual(['drive.file']);
      await harness.connector.testConnection(harness.context('google-drive', refreshed));
    } finally {
      harness.emulator.control.clock.advance(-3_600_000);
    }
  });

  test('T4 T17 [google-drive]: a grant the user revoked at Google makes refresh fail with invalid_grant → ReauthorizationRequired', async () => {
    harness.emulator.control.addUser({
      subject: 'u-revoker',
      email: 'rev@acme.example',
      name: 'Rev',
      hd: 'acme.example',
    });
    harness.emulator.control.signIn('u-revoker');
    try {
      const { tokens: own } = await harness.connect('google-drive');
      harness.emulator.control.revokeUserGrants('u-revoker');
      const ctx = harness.context('google-drive', own);
      expect(await failureOf(harness.connector.refresh(ctx))).toMatchObject({ type: 'ReauthorizationRequired' });
      expect(await failureOf(harness.connector.testConnection(ctx))).toMatchObject({ type: 'ReauthorizationRequired' });
    } finally {
      harness.emulator.control.signIn('108234567890123456789');
    }
  });

  test('T4 [google-drive]: disconnect revokes the grant at /revoke; its tokens and channels stop working', async () => {
    const { tokens: own } = await harness.connect('google-drive');
    const ctx = harness.context('google-drive', own);
    await harness.connector.registerWebhooks(ctx, {
      callbackUrl: 'https://hooks.example.test/x',
      clientState: 'secret-token',
    });
    const revoked = await harness.connector.revoke(ctx);
    expect(revoked.revoked).toBe(true);
    const revoke = harness.requestsTo(/^\/revoke$/).at(-1)!;
    expect(revoke.status).toBe(200);
    expect(await failureOf(harness.connector.refresh(ctx))).toMatchObject({ type: 'ReauthorizationRequired' });
    // Revoking again: Google no longer knows it, which the connector reports without failing.
    expect(await harness.connector.revoke(ctx)).toMatchObject({ revoked: false });
  });

  test('T18 T19 [google-drive]: an export is uploaded into a picked folder only; other folders and other actions are refused before any request', async () => {
    const { control } = harness.emulator;
    const picked = control.addFolder('Exports');
    const other = control.addFolder('Not picked');
    control.pick([picked]);
    const ctx = harness.context('google-drive', tokens, { files: [picked] });
    const since = harness.emulator.requests.length;
    const result = await harness.connector.perform(ctx, 'picked-folder-export', {
      folderId: picked,
      fileName: 'daily-report.csv',
      contentType: 'text/csv',
      contentBase64: Buffer.from('day,issues\n1,3\n').toString('base64'),
    });
    const created = control.file(String(result.fileId))!;
    expect(created).toMatchObject({ name: 'daily-report.csv', parents: [picked], size: 15 });
    expect(control.visibleFiles()).toContain(created.id);

    const outside = await failureOf(
      harness.connector.perform(ctx, 'picked-folder-export', {
        folderId: other,
        fileName: 'x.csv',
        contentBase64: 'eA==',
      }),
    );
    expect(outside.type).toBe('OutsideCustomerControls');
    const traversal = await failureOf(
      harness.connector.perform(ctx, 'picked-folder-export', {
        folderId: picked,
        fileName: '../x',
        contentBase64: 'eA==',
      }),
    );
    expect(traversal.type).toBe('OutsideCustomerControls');
    expect((await failureOf(harness.connector.perform(ctx, 'share-file', {}))).type).toBe('OutsideCustomerControls');
    expect(harness.requestsTo(/^\/upload\//, since)).toHaveLength(1);
    expect(harness.emulator.requests.some((r) => r.path.includes(other))).toBe(false);
    expect(ctx.auditEntries.filter((e) => e.outcome !== 'success').map((e) => e.action)).toEqual([
      'files.create',
      'files.create',
      'data-out.share-file',
    ]);
  });

  test('T21 [google-drive]: a changes channel carries our token; renewal opens a new channel before stopping the old; delete stops it', async () => {
    const ctx = harness.context('google-drive', tokens);
    const now = harness.emulator.control.clock.now();
    const [channel] = await harness.connector.registerWebhooks(ctx, {
      callbackUrl: 'https://hooks.example.test/v1/webhooks/google-drive/w/e',
      clientState: 'endpoint-secret',
    });
    expect(channel!.resource).toBe('changes');
    expect(channel!.expiresAt! - now).toBeGreaterThan(6.9 * 24 * 3_600_000);
    const watch = harness.requestsTo(/^\/drive\/v3\/changes\/watch$/).at(-1)!;
    expect(watch.body).toMatchObject({ type: 'web_hook', token: 'endpoint-secret' });
    const renewed = await harness.connector.renewSubscription(ctx, channel!, {
      callbackUrl: 'https://hooks.example.test/v1/webhooks/google-drive/w/e',
      clientState: 'endpoint-secret',
    });
    expect(renewed.externalId).not.toBe(channel!.externalId);
    const live = harness.emulator.control.channels().map((c) => `${c.id} ${c.resourceId}`);
    expect(live).toContain(renewed.externalId);
    expect(live).not.toContain(channel!.externalId);
    await harness.connector.deleteSubscription(ctx, renewed);
    expect(harness.emulator.control.channels().map((c) => `${c.id} ${c.resourceId}`)).not.toContain(renewed.externalId);
    // Stopping a channel Drive no longer has is the goal already reached.
    await harness.connector.deleteSubscription(ctx, renewed);
  });
});
