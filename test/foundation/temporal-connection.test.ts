/**
 * Temporal Cloud and self-hosted clusters (issue #19, item 6): a profile's address, namespace, API key
 * and mTLS client certificate are honoured by every Client and NativeConnection the service makes
 * (`lib/temporal/connection.ts`, used by the API, the worker, the codec endpoint and the scripts).
 * The namespace is proven end to end on the dev server: a namespace of our own, named only by a
 * profile file, runs a workflow started by the service's client on the service's worker.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import { generate } from 'selfsigned';
import { ConfigError, loadConfig } from '../../lib/config';
import { connectClient, connectWorkerConnection, temporalConnectionOptions } from '../../lib/temporal/connection';
import { workflowIds, type VendorActionInput } from '../../workflows/definitions';
import { SEARCH_ATTRIBUTE_KEYS, CLI_TYPE_NAMES } from '@trackproject/integrations-client/searchAttributes';
import { installQuietRuntime, testWorker, uniqueTaskQueue } from '../support/temporal';
import { testStack } from '../support/stackInfo';

const ROOT = path.resolve(__dirname, '../..');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** Registers a namespace with our search attributes, as the runbook's `tcld` sequence does on Cloud. */
async function createNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    // A new namespace reaches the frontend's cache within a few seconds.
    for (let attempt = 0; ; attempt++) {
      try {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(
            SEARCH_ATTRIBUTE_KEYS.map((key) => [
              key.name,
              proto.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
            ]),
          ),
        });
        return;
      } catch (error) {
        if (attempt >= 30) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

describe('Temporal connection profile (dev server, Temporal Cloud options)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-temporal-profile-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a profile file's address and namespace are honoured by the service's client and worker", async () => {
    installQuietRuntime();
    const namespace = `tp-profile-${crypto.randomUUID().slice(0, 8)}`;
    const { temporalAddress } = testStack();
    await createNamespace(temporalAddress, namespace);
    const file = path.join(dir, 'temporal.toml');
    fs.writeFileSync(file, `[profile.cloud]\naddress = "${temporalAddress}"\nnamespace = "${namespace}"\n`);
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(config.temporal).toMatchObject({ address: temporalAddress, namespace });

    const client = await connectClient(config);
    const connection = await connectWorkerConnection(config);
    const taskQueue = uniqueTaskQueue('profile');
    const worker = await testWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      activities: { performVendorAction: async () => ({ externalId: 'done' }) },
    });
    const workspaceId = crypto.randomUUID();
    const integrationId = crypto.randomUUID();
    const workflowId = workflowIds.action(workspaceId, integrationId, crypto.randomUUID());
    const input: VendorActionInput = {
      workspaceId,
      integrationId,
      vendor: 'github',
      action: 'create-issue',
      input: {},
      actor: { type: 'system', id: 'profile-test' },
    };
    try {
      const result = await worker.runUntil(
        client.workflow.execute('vendorActionWorkflow', { taskQueue, workflowId, args: [input] }),
      );
      expect(result).toEqual({ externalId: 'done' });
      // The run is in the profile's namespace, and not in `default`.
      const raw = await Connection.connect({ address: temporalAddress });
      try {
        const inProfile = await new Client({ connection: raw, namespace }).workflow.getHandle(workflowId).describe();
        expect(inProfile.status.name).toBe('COMPLETED');
        await expect(
          new Client({ connection: raw, namespace: 'default' }).workflow.getHandle(workflowId).describe(),
        ).rejects.toThrow(/not found/i);
      } finally {
        await raw.close();
      }
    } finally {
      await client.connection.close();
      await connection.close();
    }
  }, 90_000);

  it('Temporal Cloud with an API key: TLS on, the key on every connection, the namespace from the environment', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'integrations.a1b2c',
      TEMPORAL_API_KEY: 'cloud-api-key-canary',
    });
    expect(config.temporal.namespace).toBe('integrations.a1b2c');
    expect(temporalConnectionOptions(config)).toEqual({
      address: 'us-east-1.aws.api.temporal.io:7233',
      apiKey: 'cloud-api-key-canary',
      tls: true,
    });
  });

  it('Temporal Cloud with mTLS: the client certificate and key files become the connection client pair', async () => {
    const pems = await generate([{ name: 'commonName', value: 'integrations-worker' }], { keySize: 2048 });
    const cert = path.join(dir, 'client.pem');
    const key = path.join(dir, 'client.key');
    fs.writeFileSync(cert, pems.cert);
    fs.writeFileSync(key, pems.private);
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'integrations.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'integrations.a1b2c',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    });
    const options = temporalConnectionOptions(config);
    expect(options.apiKey).toBeUndefined();
    expect(options.tls).toMatchObject({
      clientCertPair: { crt: Buffer.from(pems.cert), key: Buffer.from(pems.private) },
    });
  });

  it('a half-configured or unreadable profile is a problem that names no secret', () => {
    const cert = path.join(dir, 'only-cert.pem');
    fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nsecret-canary\n-----END CERTIFICATE-----\n');
    expect(problemsOf({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toEqual([
      'Temporal mTLS: a client certificate needs its key',
    ]);
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') })).toEqual([
      'TEMPORAL_CONFIG_FILE names a file that does not exist',
    ]);
    const file = path.join(dir, 'other.toml');
    fs.writeFileSync(file, '[profile.default]\napi_key = "secret-canary"\n');
    const problems = problemsOf({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(problems).toEqual([expect.stringContaining("Profile 'prod' not found")]);
    expect(problems.join()).not.toContain('secret-canary');
    expect(problemsOf({ TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'nope.key') }).join()).not.toContain('canary');
  });

  it('the runbook registers every search attribute the workflows upsert on Temporal Cloud (tcld)', () => {
    const runbook = fs.readFileSync(path.join(ROOT, 'docs/temporal-cloud.md'), 'utf8');
    for (const key of SEARCH_ATTRIBUTE_KEYS) {
      expect(runbook).toMatch(
        new RegExp(
          `tcld namespace search-attributes add[^\\n]*--search-attribute "${key.name}=${CLI_TYPE_NAMES[key.type]}"`,
        ),
      );
    }
  });
});
