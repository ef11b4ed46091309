/**
 * The five Microsoft rows end to end through the real workflows on the dev server: connect (PKCE
 * consent at the Graph emulator over https, callback Update) → the lifecycle's first sync → rotation
 * (MSAL refresh) → disconnect (Graph cannot revoke: subscriptions deleted, tokens destroyed) → purge,
 * with the real Graph SDK / MSAL connector and real Postgres. One emulator, one dev server and one
 * worker serve every row.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { fetch as undiciFetch } from 'undici';
import { createIntegrationContext } from '../../activities/integrations/context';
import { microsoftDescriptors, validationReply, type MicrosoftVendorId } from '../../activities/vendors/microsoft';
import { createDispatcher } from '../../activities/vendors/microsoft/client';
import {
  consentChangeUpdate,
  integrationStateQuery,
  oauthCallbackUpdate,
  workflowIds,
  type VendorActionInput,
} from '../../workflows/definitions';
import { failureType } from '../../workflows/failures';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import {
  grantSiteToApp,
  REDIRECT_URI,
  startMicrosoftHarness,
  type MicrosoftHarness,
} from '../vendors/microsoft/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, settleAndStopLifecycle, startConnect } from './support/workflowHelpers';

/** Graph validates a notification URL before it creates a subscription: this one answers like the API's receiver. */
async function startNotificationReceiver() {
  const server = http.createServer((req, res) => {
    const validation = validationReply(new URL(req.url ?? '/', 'http://receiver').searchParams);
    res.writeHead(validation?.status ?? 202, validation ? { 'content-type': validation.contentType } : {});
    res.end(validation?.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface RowCase {
  vendor: MicrosoftVendorId;
  controls: Record<string, string[]>;
  /** Emulator data, including data outside the row's customer control. */
  seed(microsoft: MicrosoftHarness): Promise<void>;
  /** Exactly what the first sync caches: resource → external ids. */
  cached: Record<string, string[]>;
  subscribedResources: string[];
  /** Outbound vendor calls the audit log must show beyond the exchange, refresh and subscription calls. */
  auditedCalls: string[];
  /** What rotation does: Entra's sign-in grant carries no refresh token (offline_access is not in its matrix row). */
  rotation: 'rotated' | 'ReauthorizationRequired';
}

const drive = (name: string) => ({ id: name, name, file: { mimeType: 'application/pdf' } });

const ROWS: Array<[string, RowCase]> = [
  [
    'T1 T2 T4 T8 T11 T15 [microsoft365]: drive items and calendar events cached, refresh rotates the tokens, two subscriptions deleted at disconnect',
    {
      vendor: 'microsoft365',
      controls: {},
      async seed({ emulator: { control } }) {
        for (const name of ['m365-a.pdf', 'm365-b.pdf', 'm365-c.pdf'])
          await control.upsertItem('me/drive/root', drive(name));
        await control.upsertItem('me/events', {
          id: 'event-walk',
          subject: 'Site walk',
          start: { dateTime: '2026-07-01T09:00:00', timeZone: 'UTC' },
          end: { dateTime: '2026-07-01T10:00:00', timeZone: 'UTC' },
        });
      },
      cached: { 'drive-items': ['m365-a.pdf', 'm365-b.pdf', 'm365-c.pdf'], 'calendar-events': ['event-walk'] },
      subscribedResources: ['me/drive/root', 'me/events'],
      auditedCalls: ['delta.drive-items', 'delta.calendar-events', 'drive.get'],
      rotation: 'rotated',
    },
  ],
  [
    'T1 T2 T4 T8 T11 T15 T18 [sharepoint]: only the admin-picked site is read and cached, though the tenant granted the app both',
    {
      vendor: 'sharepoint',
      controls: { sites: ['site-picked'] },
      async seed(microsoft) {
        const { control } = microsoft.emulator;
        for (const siteId of ['site-picked', 'site-other']) {
          control.seedSite(siteId, siteId);
          for (const n of [1, 2, 3])
            await control.upsertItem(`sites/${siteId}/drive/root`, drive(`${siteId}-${n}.dwg`));
          expect(await grantSiteToApp(microsoft.emulator, siteId)).toBe(201);
        }
      },
      cached: {
        'site-drive-items': [
          'site-picked/site-picked-1.dwg',
          'site-picked/site-picked-2.dwg',
          'site-picked/site-picked-3.dwg',
        ],
      },
      subscribedResources: ['sites/site-picked/drive/root'],
      auditedCalls: ['delta.site-drive-items', 'site.get'],
      rotation: 'rotated',
    },
  ],
  [
    'T1 T2 T4 T8 T11 T15 T18 [onedrive]: only the app folder is read and cached, nothing from the rest of the drive',
    {
      vendor: 'onedrive',
      controls: {},
      async seed({ emulator: { control } }) {
        for (const name of ['outside-1.docx', 'outside-2.docx']) await control.upsertItem('me/drive/root', drive(name));
        for (const name of ['export-1.xlsx', 'export-2.xlsx', 'export-3.xlsx'])
          await control.upsertItem('me/drive/special/approot', drive(name));
      },
      cached: { 'app-folder-items': ['export-1.xlsx', 'export-2.xlsx', 'export-3.xlsx'] },
      subscribedResources: [],
      auditedCalls: ['delta.app-folder-items', 'approot.get'],
      rotation: 'rotated',
    },
  ],
  [
    'T1 T2 T4 T8 T15 T18 T19 [teams]: nothing read or cached, a message goes to the selected channel and is refused for another',
    {
      vendor: 'teams',
      controls: { channels: ['team-e2e/chan-site'] },
      async seed({ emulator: { control } }) {
        control.seedChannel('team-e2e', 'chan-site', 'Site updates');
        control.seedChannel('team-e2e', 'chan-finance', 'Finance');
      },
      cached: {},
      subscribedResources: [],
      auditedCalls: ['teams.message.channel-notification', 'chats.list'],
      rotation: 'rotated',
    },
  ],
  [
    'T1 T2 T4 T9 T15 T19 [entra]: sign-in stores identity ids only, nothing synced, subscribed, refreshed or rotated on a schedule (a forced rotation finds no refresh token), disconnect and purge still complete',
    {
      vendor: 'entra',
      controls: {},
      async seed() {},
      cached: {},
      subscribedResources: [],
      auditedCalls: [],
      rotation: 'ReauthorizationRequired',
    },
  ],
];

describe('Microsoft end to end (dev server, Graph emulator over https, real Postgres)', () => {
  let microsoft: MicrosoftHarness;
  let receiver: Awaited<ReturnType<typeof startNotificationReceiver>>;
  let h: VendorHarness;
  let server: Awaited<ReturnType<typeof devServer>>;
  let worker: Worker;
  let workerDone: Promise<void>;
  let taskQueue: string;

  beforeAll(async () => {
    [receiver, server] = await Promise.all([startNotificationReceiver(), devServer()]);
    // Graph handshakes with the notification URL before it creates a subscription: a local receiver
    // answers, at an http URL like the API's default public URL, reached through an https front.
    microsoft = await startMicrosoftHarness({ notificationsTo: receiver.url });
    h = createVendorHarness(
      Object.values(microsoftDescriptors).map((descriptor) => ({ descriptor, connector: microsoft.connector })),
      { webhookBaseUrl: receiver.url },
    );
    taskQueue = uniqueTaskQueue('microsoft-e2e');
    worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    workerDone = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await workerDone;
    await server?.close();
    await h?.close();
    await Promise.all([microsoft?.stop(), receiver?.stop()]);
  });

  it.each(ROWS)(
    '%s',
    async (_name, row) => {
      const { control } = microsoft.emulator;
      await row.seed(microsoft);
      const requestsBeforeConnect = microsoft.emulator.requests.length;
      const appRequests = () => microsoft.emulator.requests.slice(requestsBeforeConnect);
      const workspaceId = await seedWorkspace(h);
      const descriptor = microsoftDescriptors[row.vendor];
      const scopes = [...descriptor.scopes.required, ...descriptor.scopes.optional];
      const tokenRequests = (grantType: string) =>
        microsoft.emulator.requests.filter(
          (r) =>
            r.path.endsWith('/oauth2/v2.0/token') &&
            (r.body as Record<string, string> | undefined)?.grant_type === grantType,
        );

      // Connect: the admin's browser follows the authorize URL (PKCE S256); the emulator redirects back with code + state.
      const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
        workspaceId,
        vendor: row.vendor,
        requestedScopes: scopes,
        controls: row.controls,
        redirectUri: REDIRECT_URI,
      });
      expect(authorizeUrl.origin).toBe(new URL(microsoft.emulator.url).origin);
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      const callback = await microsoft.consent(authorizeUrl.toString());
      expect(callback.searchParams.get('state')).toBe(state);
      await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: callback.searchParams.get('code')! }] });
      const connected = await handle.result();
      expect({ status: connected.status, failure: connected.failure }).toEqual({
        status: 'connected',
        failure: undefined,
      });
      expect([...connected.grantedScopes].sort()).toEqual([...scopes].sort());
      const ref = { workspaceId, integrationId };
      const secretStates = () =>
        h
          .admin('secrets')
          .where({ integration_id: integrationId, kind: 'oauth-tokens' })
          .orderBy('version')
          .pluck('state');
      const stored = JSON.parse(
        (
          await h.secrets.read(
            workspaceId,
            (await h.secrets.current(workspaceId, integrationId, 'oauth-tokens'))!.secretId,
          )
        ).toString('utf8'),
      );
      if (row.vendor === 'entra') {
        // Identity only: opaque ids and group ids from the verified ID token; no name, no e-mail, no refresh token.
        expect(stored.metadata).toEqual({
          tenantId: microsoft.emulator.tenantId,
          objectId: expect.any(String),
          subject: expect.any(String),
          groups: 'group-site-managers',
        });
        expect(JSON.stringify(stored)).not.toMatch(/ada@contoso|Ada Site-Manager/);
        expect(stored.refreshToken).toBeUndefined();
      } else {
        expect(typeof stored.refreshToken).toBe('string');
      }

      // The lifecycle's first sync fills the cache with exactly the row's data (T11, T18).
      const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
      await pollUntil(
        () => lifecycle.query(integrationStateQuery),
        (s) => s.lastSync?.state === 'completed',
        30_000,
      );
      const cachedRows = await h
        .admin('cached_records')
        .where({ integration_id: integrationId })
        .orderBy(['resource', 'external_id'])
        .select('resource', 'external_id');
      const cached: Record<string, string[]> = {};
      for (const r of cachedRows) (cached[r.resource] ??= []).push(r.external_id);
      expect(cached).toEqual(row.cached);
      // Sign-in-only (Entra): nothing is refreshed or rotated on a schedule; data rows have both.
      const live = await lifecycle.query(integrationStateQuery);
      if (row.vendor === 'entra')
        expect([live.status, live.nextTokenRefreshAt, live.nextRotationAt]).toEqual([
          'connected',
          undefined,
          undefined,
        ]);
      else
        expect([live.status, typeof live.nextTokenRefreshAt, typeof live.nextRotationAt]).toEqual([
          'connected',
          'string',
          'string',
        ]);
      const subscriptions = await h
        .admin('vendor_subscriptions')
        .where({ integration_id: integrationId })
        .orderBy('resource')
        .select('external_id', 'resource');
      expect(subscriptions.map((s) => s.resource)).toEqual([...row.subscribedResources].sort());
      for (const s of subscriptions) {
        // Through the https front, on the API's callback path (Graph refuses the http public URL itself).
        const { notificationUrl } = control.graph.subscriptions.get(s.external_id)!;
        expect(notificationUrl).toMatch(
          new RegExp(`^https://127\\.0\\.0\\.1:\\d+/v1/webhooks/${row.vendor}/${workspaceId}/`),
        );
      }
      if (row.vendor === 'sharepoint') {
        expect(appRequests().some((r) => r.path.startsWith('/v1.0/sites/site-other'))).toBe(false);
      }

      if (row.vendor === 'teams') {
        // Data out (T19) with the stored credential and controls, as the activities resolve them; no data-out activity exists yet.
        const context = createIntegrationContext(h.integrations);
        const resolved = await context.resolve(ref);
        const ctx = await context.connectorContext(resolved);
        await resolved.connector.perform(ctx, 'channel-notification', {
          teamId: 'team-e2e',
          channelId: 'chan-site',
          html: '<p>RFI 12 answered</p>',
        });
        await expect(
          resolved.connector.perform(ctx, 'channel-notification', {
            teamId: 'team-e2e',
            channelId: 'chan-finance',
            html: 'x',
          }),
        ).rejects.toMatchObject({ type: 'OutsideCustomerControls' });
        expect(control.graph.channelMessages.map((m) => `${m.teamId}/${m.channelId}`)).toEqual(['team-e2e/chan-site']);
        expect(appRequests().some((r) => r.path.startsWith('/v1.0/teams/') && r.method === 'GET')).toBe(false);
      }

      // Rotation (T8): an MSAL refresh at the identity platform → test → promote → retire after the grace period.
      const refreshesBefore = tokenRequests('refresh_token').length;
      const rotation = server.client.workflow.execute('rotateSecretWorkflow', {
        taskQueue,
        workflowId: workflowIds.rotate(workspaceId, integrationId),
        args: [{ ...ref, vendor: row.vendor, kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
      });
      if (row.rotation === 'rotated') {
        expect(await rotation).toEqual({ status: 'rotated', newVersion: 2 });
        expect(tokenRequests('refresh_token').length).toBe(refreshesBefore + 1);
        expect(await secretStates()).toEqual(['retired', 'current']);
      } else {
        // No refresh token to present: nothing is sent, the run fails typed, the current version stays.
        const failure = await rotation.catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        expect((failure as WorkflowFailedError).cause?.cause).toMatchObject({ type: 'ReauthorizationRequired' });
        expect(tokenRequests('refresh_token').length).toBe(refreshesBefore);
        expect(await secretStates()).toEqual(['current']);
      }

      // Disconnect (T4): Graph has no revocation endpoint, so the note says so; subscriptions are deleted at Graph.
      const deletesBefore = microsoft.emulator.requests.filter((r) => r.method === 'DELETE').length;
      const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
        taskQueue,
        workflowId: workflowIds.disconnect(workspaceId, integrationId),
        args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
      });
      expect(disconnected).toMatchObject({ revokedAtVendor: false, vendorNote: descriptor.revocation.note });
      const deletes = microsoft.emulator.requests
        .filter((r) => r.method === 'DELETE')
        .slice(deletesBefore)
        .map((r) => `${r.path} ${r.status}`);
      expect(deletes.sort()).toEqual(subscriptions.map((s) => `/v1.0/subscriptions/${s.external_id} 204`).sort());
      for (const s of subscriptions) expect(control.graph.subscriptions.has(s.external_id)).toBe(false);
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: row.vendor });
      await pollUntil(
        () => lifecycle.describe().then((d) => d.status.name),
        (status) => status !== 'RUNNING',
      );

      expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
      const secrets = await h.admin('secrets').where({ integration_id: integrationId });
      expect(secrets.length).toBeGreaterThan(0);
      expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
      const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
      const subscriptionCalls =
        row.subscribedResources.length > 0 ? ['subscription.create', 'subscription.delete'] : [];
      const rotationCalls =
        row.rotation === 'rotated' ? ['oauth.refresh', 'secret.promoted', 'secret.retired'] : ['oauth.refresh'];
      expect(audit).toEqual(
        expect.arrayContaining([
          'oauth.exchange-code',
          'integration.connected',
          ...subscriptionCalls,
          ...rotationCalls,
          ...row.auditedCalls,
          'integration.purged',
        ]),
      );
    },
    60_000,
  );
  it("T18 [microsoft365]: each workspace's own consent is the only credential its calls carry; after the admin disconnects, nothing is sent with it though Microsoft would still accept it", async () => {
    const { required, optional } = microsoftDescriptors.microsoft365.scopes;
    const connectWorkspace = async () => {
      const workspaceId = await seedWorkspace(h);
      const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
        workspaceId,
        vendor: 'microsoft365',
        requestedScopes: [...required, ...optional],
        controls: {},
        redirectUri: REDIRECT_URI,
      });
      const callback = await microsoft.consent(authorizeUrl.toString());
      await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: callback.searchParams.get('code')! }] });
      expect((await handle.result()).status).toBe('connected');
      const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
      await pollUntil(
        () => lifecycle.query(integrationStateQuery),
        (s) => s.lastSync?.state === 'completed',
        30_000,
      );
      return { workspaceId, integrationId };
    };
    /** Every access token ever stored for the integration (rotation would add versions). */
    const accessTokensOf = async (ref: { workspaceId: string; integrationId: string }) => {
      const ids = await h
        .admin('secrets')
        .where({ integration_id: ref.integrationId, kind: 'oauth-tokens' })
        .whereNot({ state: 'destroyed' })
        .pluck('secret_id');
      const tokens: string[] = [];
      for (const id of ids)
        tokens.push(JSON.parse((await h.secrets.read(ref.workspaceId, id)).toString('utf8')).accessToken);
      return tokens;
    };
    const bearerOf = (request: { headers: Record<string, unknown> }) =>
      String(request.headers.authorization ?? '').replace(/^Bearer /, '');
    const notify = (ref: { workspaceId: string; integrationId: string }, subject: string) =>
      server.client.workflow.execute('vendorActionWorkflow', {
        taskQueue,
        workflowId: workflowIds.action(ref.workspaceId, ref.integrationId, crypto.randomUUID()),
        args: [
          {
            ...ref,
            vendor: 'microsoft365',
            action: 'notification',
            input: { to: ['site-team@contoso.example'], subject, text: 'RFI 12 answered' },
            actor: ADMIN,
          } satisfies VendorActionInput,
        ],
      });
    const mailRequests = () => microsoft.emulator.requests.filter((r) => r.path === '/v1.0/me/sendMail');

    const fromConnect = microsoft.emulator.requests.length;
    const a = await connectWorkspace();
    const b = await connectWorkspace();
    const [tokensA, tokensB] = [await accessTokensOf(a), await accessTokensOf(b)];
    expect(tokensA).toHaveLength(1);
    expect(tokensB).toHaveLength(1);
    expect(tokensA[0]).not.toBe(tokensB[0]);
    // Both workspaces' first syncs and subscriptions went out, each with one of the two consents' tokens only.
    const graphSinceConnect = microsoft.emulator.requests.slice(fromConnect).filter((r) => r.path.startsWith('/v1.0/'));
    const used = new Set(graphSinceConnect.map(bearerOf));
    expect(used).toEqual(new Set([tokensA[0], tokensB[0]]));

    // A call for a workspace carries that workspace's token, never the other's.
    for (const [ref, token] of [
      [a, tokensA[0]],
      [b, tokensB[0]],
      [a, tokensA[0]],
    ] as const) {
      const before = mailRequests().length;
      expect(await notify(ref, 'per workspace')).toEqual({ sent: true, recipients: 1 });
      expect(mailRequests().slice(before).map(bearerOf)).toEqual([token]);
    }

    // The admin of A disconnects. Microsoft cannot revoke, so A's access token still works at Graph...
    const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
      taskQueue,
      workflowId: workflowIds.disconnect(a.workspaceId, a.integrationId),
      args: [{ ...a, actor: ADMIN, purgeDelayMs: 1_000 }],
    });
    expect(disconnected).toMatchObject({ revokedAtVendor: false });
    const afterDisconnect = microsoft.emulator.requests.length;
    // ...but we send nothing with it: a data-out action and a sync for A are refused before any request.
    const refused = await notify(a, 'after disconnect').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    expect(failureType(refused)).toBe('IntegrationNotActive');
    const syncRefused = await server.client.workflow
      .execute('syncWorkflow', {
        taskQueue,
        workflowId: `${workflowIds.sync(a.workspaceId, a.integrationId)}/${crypto.randomUUID()}`,
        args: [{ ...a, vendor: 'microsoft365', request: { reason: 'admin' } }],
        workflowExecutionTimeout: '20s',
      })
      .catch((error: unknown) => error);
    expect(failureType(syncRefused)).toBe('IntegrationNotActive');
    // Workspace B is untouched, and still served with its own token.
    expect(await notify(b, 'B still connected')).toEqual({ sent: true, recipients: 1 });
    const sentAfter = microsoft.emulator.requests.slice(afterDisconnect).filter((r) => r.path.startsWith('/v1.0/'));
    expect(sentAfter.length).toBeGreaterThan(0);
    expect(new Set(sentAfter.map(bearerOf))).toEqual(new Set([tokensB[0]]));
    expect(await accessTokensOf(a)).toEqual([]);
    // The token itself was still good: only our refusal kept it from being used.
    const probe = await undiciFetch(`${microsoft.emulator.url}/v1.0/me/drive?$select=id`, {
      headers: { authorization: `Bearer ${tokensA[0]}` },
      dispatcher: createDispatcher(microsoft.emulator.caCert),
    });
    expect(probe.status).toBe(200);
    const denied = await h
      .admin('audit_log')
      .where({ integration_id: a.integrationId, action: 'integration.action.notification', outcome: 'denied' })
      .pluck('error_class');
    expect(denied).toEqual(['IntegrationNotActive']);

    await settleAndStopLifecycle(server.client, b.workspaceId, b.integrationId);
  }, 90_000);

  it('T17 T10 [microsoft365]: with Mail.Send restricted away, a mail action is refused before it reaches Graph and audited as denied; the refresh asks only for the consented scopes', async () => {
    const workspaceId = await seedWorkspace(h);
    const { required, optional } = microsoftDescriptors.microsoft365.scopes;
    const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
      workspaceId,
      vendor: 'microsoft365',
      requestedScopes: [...required, ...optional],
      controls: {},
      redirectUri: REDIRECT_URI,
    });
    const callback = await microsoft.consent(authorizeUrl.toString());
    await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: callback.searchParams.get('code')! }] });
    expect((await handle.result()).status).toBe('connected');
    const ref = { workspaceId, integrationId };
    const notify = (subject: string) => {
      const args: VendorActionInput = {
        ...ref,
        vendor: 'microsoft365',
        action: 'notification',
        input: { to: ['site-team@contoso.example'], subject, text: 'RFI 12 answered' },
        actor: ADMIN,
      };
      return server.client.workflow.execute('vendorActionWorkflow', {
        taskQueue,
        workflowId: workflowIds.action(workspaceId, integrationId, crypto.randomUUID()),
        args: [args],
      });
    };
    const mailRequests = () => microsoft.emulator.requests.filter((r) => r.path === '/v1.0/me/sendMail');
    const mailBefore = mailRequests().length;
    expect(await notify('before the restriction')).toEqual({ sent: true, recipients: 1 });
    expect(mailRequests().length).toBe(mailBefore + 1);

    // The admin restricts the consent to the required scopes, through the lifecycle as the API does.
    const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
    await lifecycle.executeUpdate(consentChangeUpdate, { args: [{ actor: ADMIN, scopes: [...required] }] });

    // The stored token still carries Mail.Send, but the call is refused before any request (typed, not retried).
    const refused = await notify('after the restriction').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    expect(failureType(refused)).toBe('MissingScope');
    expect(mailRequests().length).toBe(mailBefore + 1);
    const mailAudit = await h
      .admin('audit_log')
      .where({ integration_id: integrationId, action: 'mail.send.notification' })
      .orderBy('seq')
      .select('scope', 'outcome', 'error_class');
    expect(mailAudit.map((a) => [a.scope, a.outcome, a.error_class])).toEqual([
      ['Mail.Send', 'success', null],
      ['Mail.Send', 'denied', 'MissingScope'],
    ]);

    // Rotation refreshes with the narrower scope set: the new token no longer carries Mail.Send.
    const refreshes = () =>
      microsoft.emulator.requests.filter(
        (r) =>
          r.path.endsWith('/oauth2/v2.0/token') &&
          (r.body as Record<string, string> | undefined)?.grant_type === 'refresh_token',
      );
    const refreshesBefore = refreshes().length;
    expect(
      await server.client.workflow.execute('rotateSecretWorkflow', {
        taskQueue,
        workflowId: workflowIds.rotate(workspaceId, integrationId),
        args: [{ ...ref, vendor: 'microsoft365', kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
      }),
    ).toMatchObject({ status: 'rotated' });
    const [refresh] = refreshes().slice(refreshesBefore);
    const asked = String((refresh!.body as Record<string, string>).scope).split(' ');
    expect(asked).toEqual(expect.arrayContaining([...required]));
    expect(asked).not.toContain('Mail.Send');
    const current = await h.secrets.current(workspaceId, integrationId, 'oauth-tokens');
    const rotated = JSON.parse((await h.secrets.read(workspaceId, current!.secretId)).toString('utf8'));
    expect([...rotated.grantedScopes].sort()).toEqual([...required].sort());

    await settleAndStopLifecycle(server.client, workspaceId, integrationId);
  }, 60_000);
});
