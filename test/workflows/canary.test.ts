/**
 * Canary test (T6, T7, T25): seed unique secret and personal values, run connect → lifecycle sync
 * → a failing activity → disconnect on the dev server with the encrypting data converter, then
 * search for them everywhere they must not be: every workflow history (raw, and decoded with the
 * codec — only references cross workflow boundaries), every log line of the worker (the SDK's
 * workflow, activity and Core logs through the worker's runtime logger, as `workers/main.ts` installs
 * it), and every database table read as superuser (secret ciphertext included, as plaintext).
 */
import crypto from 'node:crypto';
import { Client } from '@temporalio/client';
import { createActivities } from '../../activities';
import { createConnectorRegistry } from '../../activities/vendors/registry';
import { createAuditLog } from '../../db/audit';
import { LocalKeyProvider, SecretStore } from '../../db/secrets';
import { createLogger } from '../../lib/logger';
import { installWorkerRuntime } from '../../lib/temporal/runtime';
import { EncryptionCodec } from '@trackproject/integrations-client/codec';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import {
  connectStateQuery,
  integrationStateQuery,
  oauthCallbackUpdate,
  workflowIds,
  type ConnectInput,
} from '../../workflows/definitions';
import { requestSync } from '@trackproject/integrations-client/client';
import { integrationSearchAttributes } from '@trackproject/integrations-client/searchAttributes';
import { fetchHistoryJson, historyTexts } from '../support/codec';
import { runtimeDb, superuserDb } from '../support/db';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from '../../dev/memoryConnector';
import { ADMIN, pollUntil } from './support/workflowHelpers';

describe('canaries never reach histories, logs or the database in clear (dev server, real Postgres)', () => {
  it('T6 T7 T25 logs: secrets never appear in workflow histories, logs or error messages; the logs of connect-sync-disconnect are non-empty and carry the run ids; the e-mail from vendor records lives only in the cache until disconnect purges it', async () => {
    const tag = crypto.randomBytes(6).toString('hex');
    const canaries = {
      accessToken: `canary-access-${tag}`,
      refreshToken: `canary-refresh-${tag}`,
      serviceAccount: `canary-service-account-${tag}`,
      email: `canary.person.${tag}@example.com`,
    };
    const keys = [crypto.randomBytes(32)];
    const codec = new EncryptionCodec(keys);
    const dataConverter = createDataConverter(keys);
    const logLines: string[] = [];
    const logger = createLogger({
      level: 'info',
      name: 'canary',
      destination: { write: (line: string) => void logLines.push(line) },
    });
    // Before any connection: the process's one runtime, whose logger the workflows' and activities' logs reach.
    installWorkerRuntime({ logger, logLevel: 'info' });
    const db = runtimeDb('worker');
    const admin = superuserDb();
    const connector = new MemoryConnector();
    connector.nextTokens = {
      accessToken: canaries.accessToken,
      refreshToken: canaries.refreshToken,
      grantedScopes: ['repo:read'],
      expiresAt: undefined,
    };
    connector.upsert('issue-1', `assigned to ${canaries.email}`);
    connector.upsert('issue-2', 'plain');
    const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
    const activities = createActivities({
      db,
      logger,
      integrations: {
        secrets,
        audit: createAuditLog(db),
        vendors: createConnectorRegistry([{ descriptor: memoryDescriptor, connector }]),
        webhookBaseUrl: 'https://integrations.test',
      },
    });
    const ds = await devServer();
    const client = new Client({ connection: ds.client.connection, namespace: 'default', dataConverter });
    const taskQueue = uniqueTaskQueue('canary');
    const worker = await testWorker({ connection: ds.connection, taskQueue, activities, dataConverter });
    const workspaceId = crypto.randomUUID();
    const integrationId = crypto.randomUUID();
    const ref = { workspaceId, integrationId };
    const attributes = (process: string) => integrationSearchAttributes({ ...ref, vendor: MEMORY_VENDOR, process });
    try {
      await admin('workspaces').insert({ workspace_id: workspaceId });
      await worker.runUntil(async () => {
        const input: ConnectInput = {
          ...ref,
          vendor: MEMORY_VENDOR,
          requestedScopes: ['repo:read'],
          controls: { repos: ['org/a'] },
          redirectUri: 'https://app.test/oauth/callback',
          actor: ADMIN,
        };
        const connect = await client.workflow.start('connectWorkflow', {
          taskQueue,
          workflowId: workflowIds.connect(workspaceId, integrationId),
          args: [input],
          typedSearchAttributes: attributes('connect'),
        });
        const consent = await pollUntil(
          () => connect.query(connectStateQuery),
          (s) => s.status === 'awaiting-consent',
        );
        const state = new URL(consent.authorizeUrl!).searchParams.get('state')!;
        await connect.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'auth-code' }] });
        expect(await connect.result()).toMatchObject({ status: 'connected' });

        // The API stores a service-account credential encrypted; only its id would travel.
        await secrets.put({
          workspaceId,
          integrationId,
          kind: 'service-account',
          state: 'pending',
          plaintext: canaries.serviceAccount,
        });

        const lifecycle = client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed',
        );
        // A failing activity: the vendor answers 429 once; the retry after the wait succeeds.
        connector.upsert('issue-3', `cc ${canaries.email}`);
        connector.failures.push({ kind: 'rate-limit', retryAfterMs: 500 });
        await requestSync(lifecycle, { reason: 'admin' });
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.rateLimitWaits === 1 && s.lastSync.state === 'completed',
        );

        // The search below can see the canary where it legitimately is: the cache, before disconnect.
        expect(JSON.stringify(await admin('cached_records').where({ integration_id: integrationId }))).toContain(
          canaries.email,
        );

        const disconnect = await client.workflow.start('disconnectWorkflow', {
          taskQueue,
          workflowId: workflowIds.disconnect(workspaceId, integrationId),
          args: [{ ...ref, actor: ADMIN, purgeDelayMs: 500 }],
          typedSearchAttributes: attributes('disconnect'),
        });
        expect(await disconnect.result()).toMatchObject({ revokedAtVendor: true });
      });
      expect(connector.revokedTokens).toEqual([canaries.accessToken]); // the canaries were really in use

      // Every execution of the workspace, found through visibility (eventually consistent: wait for all four processes).
      const executions = await pollUntil(
        async () => {
          const found: Array<{ workflowId: string; runId: string; type: string }> = [];
          for await (const e of client.workflow.list({ query: `WorkspaceId = "${workspaceId}"` }))
            found.push({ workflowId: e.workflowId, runId: e.runId, type: e.type });
          return found;
        },
        (found) =>
          ['connectWorkflow', 'integrationLifecycleWorkflow', 'syncWorkflow', 'disconnectWorkflow'].every((t) =>
            found.some((e) => e.type === t),
          ) && found.filter((e) => e.type === 'syncWorkflow').length >= 2,
      );
      const leaks: string[] = [];
      const search = (where: string, texts: string[]) => {
        for (const [name, value] of Object.entries(canaries))
          if (texts.some((text) => text.includes(value))) leaks.push(`${name} in ${where}`);
      };
      for (const e of executions) {
        const raw = await fetchHistoryJson(ds.client, e.workflowId, e.runId);
        search(`raw history of ${e.type}`, await historyTexts(raw));
        search(`decoded history of ${e.type}`, await historyTexts(raw, codec));
      }
      // The run logged what it did, with the ids that find it (workspace, integration, vendor, workflow, run).
      const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const about = (msg: string) => entries.filter((e) => e.msg === msg && e.workspaceId === workspaceId);
      for (const msg of [
        'integration connected',
        'sync page committed',
        'vendor call failed',
        'vendor rate limit: waiting',
        'sync completed',
        'integration disconnected; purge scheduled',
        'integration purged',
      ])
        expect({ msg, logged: about(msg).length > 0 }).toEqual({ msg, logged: true });
      for (const entry of [...about('sync page committed'), ...about('sync completed')])
        expect(entry).toMatchObject({
          integrationId,
          vendor: MEMORY_VENDOR,
          workflowId: expect.any(String),
          [entry.workflowRunId ? 'workflowRunId' : 'runId']: expect.any(String),
        });
      search('worker logs', logLines);

      const tables: string[] = (
        await admin.raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
      ).rows.map((r: { tablename: string }) => r.tablename);
      expect(tables).toEqual(expect.arrayContaining(['secrets', 'audit_log', 'cached_records', 'integrations']));
      for (const table of tables) {
        const rows = await admin(table).select('*');
        // bytea columns (secret ciphertext) are searched as raw bytes: the plaintext must not be there either.
        const text = JSON.stringify(rows, (_key, value) =>
          value && value.type === 'Buffer' && Array.isArray(value.data)
            ? Buffer.from(value.data).toString('latin1')
            : value,
        );
        search(`table ${table}`, [text]);
      }
      expect(leaks).toEqual([]);
    } finally {
      await ds.close();
      await db.destroy();
      await admin.destroy();
    }
  });
});
