/**
 * The API under test, assembled from real parts: the runtime pool in the api role on the test
 * Postgres (RLS applies), the real secret store and audit log, the Temporal dev server, and a
 * worker running the contract doubles of the workflows (`contractWorkflows.ts`) on its own queue.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { Knex } from 'knex';
import { githubDescriptor } from '../../../activities/vendors/github';
import { jiraDescriptor } from '../../../activities/vendors/jira';
import { microsoftDescriptors } from '../../../activities/vendors/microsoft';
import type { VendorDescriptor, VendorId } from '../../../activities/vendors/types';
import { createAuthenticator, mintToken, type Role } from '../../../api/auth';
import type { RateLimitPolicy } from '../../../api/rateLimit';
import { buildServer } from '../../../api/server';
import type { ApiServices } from '../../../api/services';
import type { Api } from '../../../api/types';
import { webhookVerifiersFor } from '../../../api/webhooks/verifiers';
import { createAuditLog } from '../../../db/audit';
import { createPostgresRateLimitStore } from '../../../db/rateLimits';
import { LocalKeyProvider, SecretStore } from '../../../db/secrets';
import { createLogger } from '../../../lib/logger';
import { workflowIds } from '../../../workflows/definitions';
import { createWorker, bundleWorkflows } from '../../../workers/createWorker';
import { runtimeDb, superuserDb } from '../../support/db';
import { devServer, uniqueTaskQueue } from '../../support/temporal';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'trackproject-integrations';
export const PUBLIC_URL = 'https://api.test';
export const TEMPORAL_UI = 'http://temporal-ui.test';

/**
 * No service-account descriptor exists in `activities/vendors/` yet: this one mirrors the SAP row
 * of the matrix (service account in the customer's tenant, writes nothing by default).
 */
export const sapDescriptor: VendorDescriptor = {
  id: 'sap',
  displayName: 'SAP S/4HANA',
  scopes: { required: ['API_PURCHASEORDER_PROCESS_SRV'], optional: [] },
  authKind: 'service-account',
  pkce: false,
  customerControl: { kind: 'tenant', description: 'Service account in the customer tenant' },
  dataIn: ['purchase-orders'],
  dataOut: [],
  syncResources: ['purchase-orders'],
  syncMode: 'scheduled-poll',
  rateLimit: { requestsPerMinute: 60, minPollIntervalMs: 15 * 60_000 },
  webhook: { scheme: 'none' },
  revocation: { kind: 'none', note: 'Delete the service account in the customer tenant' },
  cacheTtlMs: 24 * 60 * 60_000,
};

/** Wave-2 rows whose webhook contracts the receiver already serves (no connectors yet): the Slack and Okta rows of the matrix. */
const wave2 = (
  id: 'slack' | 'okta',
  displayName: string,
  scopes: string[],
  scheme: 'slack-signing-secret' | 'okta-shared-header',
): VendorDescriptor => ({
  ...sapDescriptor,
  id,
  displayName,
  scopes: { required: scopes, optional: [] },
  authKind: id === 'okta' ? 'federated-identity' : 'oauth2-pkce',
  pkce: id === 'slack',
  customerControl: { kind: id === 'slack' ? 'channels' : 'tenant', description: displayName },
  dataIn: id === 'okta' ? ['authenticated-identity', 'group-claims'] : [],
  dataOut: id === 'slack' ? ['channel-notification'] : [],
  syncResources: [],
  syncMode: 'none',
  webhook: { scheme },
});
export const slackDescriptor = wave2('slack', 'Slack', ['chat:write', 'channels:read'], 'slack-signing-secret');
export const oktaDescriptor = wave2('okta', 'Okta', ['openid', 'profile', 'email'], 'okta-shared-header');

export const TEST_VENDORS: ReadonlyMap<VendorId, VendorDescriptor> = new Map<VendorId, VendorDescriptor>(
  [
    githubDescriptor,
    jiraDescriptor,
    microsoftDescriptors.sharepoint,
    microsoftDescriptors.microsoft365,
    microsoftDescriptors.entra,
    sapDescriptor,
    slackDescriptor,
    oktaDescriptor,
  ].map((d) => [d.id, d]),
);

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
  close(): Promise<void>;
}

/** Our Jira OAuth app: Jira signs delivery JWTs with its client secret. */
export const JIRA_APP = { clientId: 'jira-app-client-id', clientSecret: 'jira-app-client-secret-for-tests-0123456789' };

/** The GitHub App's webhook secret (one for all installations): signs app-level deliveries. */
export const GITHUB_APP_WEBHOOK_SECRET = 'github-app-webhook-secret-for-tests';

export async function createHarness(
  options: {
    rateLimits?: RateLimitPolicy;
    /** Caller and workspace budgets in Postgres, shared with every other harness that sets this (another API instance). */
    sharedRateLimits?: boolean;
    /** Receives every log line (level trace). */
    logLines?: string[];
  } = {},
): Promise<Harness> {
  const db = runtimeDb('api');
  const su = superuserDb();
  const server = await devServer();
  const hsSecret = crypto.randomBytes(48);
  const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
  const taskQueue = uniqueTaskQueue('api');
  const services: ApiServices = {
    db,
    temporal: { client: server.client, namespace: 'default', taskQueue, uiUrl: TEMPORAL_UI },
    auth: createAuthenticator({ issuer: ISSUER, audience: AUDIENCE, hsSecret }),
    audit: createAuditLog(db),
    secrets,
    vendors: TEST_VENDORS,
    webhookVerifiers: webhookVerifiersFor({ jira: JIRA_APP }),
    appWebhookSecrets: { github: GITHUB_APP_WEBHOOK_SECRET },
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
  const app = await buildServer({ logger, readiness: [], services });
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
  const descriptor = TEST_VENDORS.get(row.vendor)!;
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
export async function seedWebhookEndpoint(h: Harness, workspaceId: string, vendor: VendorId): Promise<SeededEndpoint> {
  const integrationId = await seedIntegration(h.su, { workspaceId, vendor });
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

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
