/**
 * The API under test, assembled from real parts: the runtime pool in the api role on the test
 * Postgres (RLS applies), the real secret store and audit log, the Temporal dev server, and a
 * worker running the contract doubles of the workflows (`contractWorkflows.ts`) on its own queue.
 */
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { ApiMetrics } from '../../../api/metrics';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Knex } from 'knex';
import {
  appWebhookSecrets,
  catalogRows,
  webhookVerifiers,
  type CatalogRow,
  type VendorApps,
} from '../../../activities/vendors/catalog';
import { APP_WEBHOOK_RESOURCE } from '../../../activities/vendors/shared';
import type { VendorId } from '../../../activities/vendors/types';
import { createAuthenticator, mintToken, type Role } from '../../../api/auth';
import type { RateLimitPolicy } from '../../../api/rateLimit';
import { buildServer } from '../../../api/server';
import type { ApiServices } from '../../../api/services';
import type { Api } from '../../../api/types';
import { createAuditLog } from '../../../db/audit';
import { createPostgresRateLimitStore } from '../../../db/rateLimits';
import { LocalKeyProvider, SecretStore } from '../../../db/secrets';
import type { AuditSink } from '../../../lib/audit';
import { createLogger } from '../../../lib/logger';
import { workflowIds } from '../../../workflows/definitions';
import { createWorker, bundleWorkflows } from '../../../workers/createWorker';
import { runtimeDb, superuserDb } from '../../support/db';
import { devServer, uniqueTaskQueue } from '../../support/temporal';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'trackproject-integrations';
export const PUBLIC_URL = 'https://api.test';
export const TEMPORAL_UI = 'http://temporal-ui.test';
/** Keys the hashed subjects the harness API writes into the audit log. */
export const AUDIT_SUBJECT_KEY = crypto.randomBytes(32);
/** Keys the consent session cookies the harness API issues and checks (T2). */
export const CONSENT_SESSION_KEY = crypto.randomBytes(32);

let bundle: Promise<{ code: string }> | undefined;
/** The doubles are bundled once per test file that needs them (a few seconds). */
const contractBundle = () => (bundle ??= bundleWorkflows(path.join(__dirname, 'contractWorkflows.ts')));

export interface Harness {
  app: Api;
  services: ApiServices;
  db: Knex;
  /** Superuser: fixture rows and assertions that must see through RLS. Never used by the API. */
  su: Knex;
  secrets: SecretStore;
  hsSecret: Uint8Array;
  taskQueue: string;
  token(input: { workspaceId: string; role: Role; sub?: string; expiresIn?: string | number }): Promise<string>;
  /** Runs `fn` with a worker polling the harness queue. */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends every run still open on the harness queue (they would sleep on the shared dev server), then the API. */
  close(): Promise<void>;
}

/** Our Jira OAuth app: Jira signs delivery JWTs with its client secret. */
export const JIRA_APP = { clientId: 'jira-app-client-id', clientSecret: 'jira-app-client-secret-for-tests-0123456789' };

/** The GitHub App's webhook secret (one for all installations): signs app-level deliveries. */
export const GITHUB_APP_WEBHOOK_SECRET = 'github-app-webhook-secret-for-tests';

/** Our Slack app: Slack signs every Events API request to our one Request URL with its signing secret. */
export const SLACK_APP = {
  clientId: '1111111111.2222222222',
  clientSecret: 'slack-app-client-secret',
  signingSecret: 'slack-app-signing-secret-for-tests',
};

/** Our vendor apps as the harness's deployment has them: every built family configured (the API calls no vendor). */
export const TEST_APPS: VendorApps = {
  github: {
    apiUrl: 'https://github.test/api',
    webUrl: 'https://github.test',
    appId: '1',
    appSlug: 'trackproject-test',
    privateKey: 'not-used-by-the-api',
    clientId: 'github-app-client-id',
    clientSecret: 'github-app-client-secret',
    webhookSecret: GITHUB_APP_WEBHOOK_SECRET,
  },
  microsoft: {
    loginUrl: 'https://login.test',
    graphUrl: 'https://graph.test',
    tenantId: 'organizations',
    clientId: 'microsoft-client-id',
    clientSecret: 'microsoft-client-secret',
  },
  jira: { authUrl: 'https://auth.jira.test', apiUrl: 'https://api.jira.test', ...JIRA_APP },
  procore: {
    authUrl: 'https://login.procore.test',
    apiUrl: 'https://api.procore.test',
    clientId: 'procore-client-id',
    clientSecret: 'procore-client-secret',
  },
  google: {
    accountsUrl: 'https://accounts.google.test',
    oauth2Url: 'https://oauth2.google.test',
    apiUrl: 'https://www.google.test',
    clientId: 'google-client-id.apps.googleusercontent.com',
    clientSecret: 'google-client-secret',
  },
  slack: { apiUrl: 'https://slack.test/api/', webUrl: 'https://slack.test', ...SLACK_APP },
  okta: { orgDomains: ['okta.com'], allowHttp: false },
  autodesk: {
    apiUrl: 'https://developer.api.autodesk.test',
    clientId: 'aps-client-id',
    clientSecret: 'aps-client-secret',
  },
  // The SAP tenants of the tests are emulators on loopback http.
  sap: { apiDomains: ['127.0.0.1'], allowHttp: true },
  'oracle-erp': { hosts: ['oraclecloud.com'], allowHttp: false },
  'primavera-p6': { hosts: ['oraclecloud.com'], allowHttp: false },
};

/** The catalog's rows as production derives them from TEST_APPS. */
export const TEST_VENDORS: ReadonlyMap<VendorId, CatalogRow> = new Map(
  catalogRows(TEST_APPS).map((row): [VendorId, CatalogRow] => [row.descriptor.id, row]),
);

export async function createHarness(
  options: {
    rateLimits?: RateLimitPolicy;
    /** Caller and workspace budgets in Postgres, shared with every other harness that sets this (another API instance). */
    sharedRateLimits?: boolean;
    /** Receives every log line (level trace). */
    logLines?: string[];
    /** Replaces the audit log (a store that fails). */
    audit?: AuditSink;
    /** As `API_TRUST_PROXY` sets it. */
    trustProxy?: string[];
    /** The request and webhook metrics the test reads. */
    metrics?: ApiMetrics;
    /** The secret store's KEK, for a test whose own worker shares the API's secrets (a real-workflow journey). */
    secretsKey?: Buffer;
    /**
     * Another Temporal server (the time-skipping one) whose runs the test starts and ends itself;
     * default the shared dev server, whose runs on the harness queue `close` ends.
     */
    temporal?: { client: Client; connection: NativeConnection };
  } = {},
): Promise<Harness> {
  const db = runtimeDb('api');
  const su = superuserDb();
  const server = options.temporal ? { ...options.temporal, close: async () => {} } : await devServer();
  const hsSecret = crypto.randomBytes(48);
  const secrets = new SecretStore(db, new LocalKeyProvider([options.secretsKey ?? crypto.randomBytes(32)]));
  const taskQueue = uniqueTaskQueue('api');
  const services: ApiServices = {
    db,
    temporal: { client: server.client, namespace: 'default', taskQueue, uiUrl: TEMPORAL_UI },
    auth: createAuthenticator({ issuer: ISSUER, audience: AUDIENCE, hsSecret }),
    audit: options.audit ?? createAuditLog(db),
    auditSubjectKey: AUDIT_SUBJECT_KEY,
    consentSessionKey: CONSENT_SESSION_KEY,
    secrets,
    vendors: TEST_VENDORS,
    webhookVerifiers: webhookVerifiers(TEST_APPS),
    appWebhookSecrets: appWebhookSecrets(TEST_APPS),
    publicUrl: PUBLIC_URL,
    purgeDelayMs: 7 * 24 * 60 * 60_000,
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.sharedRateLimits ? { rateLimitStore: createPostgresRateLimitStore(db) } : {}),
  };
  const lines = options.logLines;
  const logger = lines
    ? createLogger({
        level: 'trace',
        name: 'api-test',
        destination: { write: (line: string) => void lines.push(line) },
      })
    : createLogger({ level: 'silent', name: 'api-test' });
  const app = await buildServer({
    logger,
    readiness: [],
    services,
    metrics: options.metrics,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
  });
  return {
    app,
    services,
    db,
    su,
    secrets,
    hsSecret,
    taskQueue,
    token: ({ workspaceId, role, sub, expiresIn }) =>
      mintToken({
        secret: hsSecret,
        issuer: ISSUER,
        audience: AUDIENCE,
        sub: sub ?? `user-${role}`,
        workspaceId,
        role,
        expiresIn,
      }),
    async withWorker(fn) {
      // A worker shuts down when runUntil settles: one per call.
      const worker = await createWorker({
        connection: server.connection,
        namespace: 'default',
        taskQueue,
        activities: {},
        workflowBundle: await contractBundle(),
      });
      return worker.runUntil(fn);
    },
    async close() {
      for await (const run of options.temporal
        ? []
        : services.temporal.client.workflow.list({
            query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`,
          })) {
        await services.temporal.client.workflow
          .getHandle(run.workflowId)
          .terminate('test cleanup')
          .catch(() => undefined);
      }
      await app.close();
      await Promise.all([db.destroy(), su.destroy()]);
      await server.close();
    },
  };
}

/** An integration row as the connect workflow leaves it (fixture; written as superuser). */
export async function seedIntegration(
  su: Knex,
  row: {
    workspaceId: string;
    vendor: VendorId;
    status?: string;
    requestedScopes?: string[];
    grantedScopes?: string[];
    controls?: Record<string, string[]>;
  },
): Promise<string> {
  const integrationId = crypto.randomUUID();
  const { descriptor } = TEST_VENDORS.get(row.vendor)!;
  const scopes = row.requestedScopes ?? [...descriptor.scopes.required];
  await su('integrations').insert({
    integration_id: integrationId,
    workspace_id: row.workspaceId,
    vendor: row.vendor,
    status: row.status ?? 'connected',
    requested_scopes: scopes,
    granted_scopes: row.grantedScopes ?? scopes,
    controls: JSON.stringify(row.controls ?? {}),
    connected_by: 'user-admin',
    connected_at: new Date(),
  });
  return integrationId;
}

export interface SeededEndpoint {
  integrationId: string;
  endpointId: string;
  secret: string;
  lifecycleId: string;
  url: string;
}

/** A connected integration with a webhook endpoint (its secret stored as the receiver reads it) and a running lifecycle double. */
export async function seedWebhookEndpoint(
  h: Harness,
  workspaceId: string,
  vendor: VendorId,
  controls?: Record<string, string[]>,
): Promise<SeededEndpoint> {
  const integrationId = await seedIntegration(h.su, { workspaceId, vendor, controls });
  const secret = crypto.randomBytes(32).toString('base64url');
  const { secretId } = await h.secrets.put({
    workspaceId,
    integrationId,
    kind: 'webhook-secret',
    plaintext: secret,
    state: 'current',
  });
  const endpointId = crypto.randomUUID();
  await h.su('webhook_endpoints').insert({
    endpoint_id: endpointId,
    workspace_id: workspaceId,
    integration_id: integrationId,
    vendor,
    signing_secret_id: secretId,
  });
  const lifecycleId = workflowIds.lifecycle(workspaceId, integrationId);
  await h.services.temporal.client.workflow.start('integrationLifecycleWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: lifecycleId,
    args: [{ workspaceId, integrationId, vendor }],
  });
  return { integrationId, endpointId, secret, lifecycleId, url: `/v1/webhooks/${vendor}/${workspaceId}/${endpointId}` };
}

/**
 * An integration an app-level webhook (one URL for the whole vendor app) routes to by `routingKey`:
 * its endpoint, its routing subscription and a running lifecycle double. Answers its id.
 */
export async function seedAppWebhookTenant(
  h: Harness,
  tenant: { workspaceId: string; vendor: VendorId; routingKey: string; endpointId?: string },
): Promise<string> {
  const { workspaceId, vendor } = tenant;
  const integrationId = await seedIntegration(h.su, { workspaceId, vendor });
  const owned = { workspace_id: workspaceId, integration_id: integrationId };
  await h.su('webhook_endpoints').insert({ ...owned, endpoint_id: tenant.endpointId ?? crypto.randomUUID(), vendor });
  await h.su('vendor_subscriptions').insert({
    ...owned,
    external_id: tenant.routingKey,
    resource: APP_WEBHOOK_RESOURCE,
    status: 'active',
  });
  await h.services.temporal.client.workflow.start('integrationLifecycleWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: workflowIds.lifecycle(workspaceId, integrationId),
    args: [{ workspaceId, integrationId, vendor }],
  });
  return integrationId;
}

/** Ends the lifecycle doubles a test seeded (they would sleep on the shared dev server); one already gone is fine. */
export async function stopLifecycles(h: Harness, lifecycleIds: string[]): Promise<void> {
  for (const lifecycleId of lifecycleIds)
    await h.services.temporal.client.workflow
      .getHandle(lifecycleId)
      .terminate('cleanup')
      .catch(() => undefined);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
