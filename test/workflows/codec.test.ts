/**
 * Payload encryption: the codec itself (round trip, tampering, wrong and unknown keys, rotation),
 * what a worker using the data converter writes into real dev-server histories (only ciphertext,
 * failures included), and the Temporal UI codec endpoint decoding it for an authorized operator.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { codecKeysFromConfig } from '../../lib/temporal/codec';
import {
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  codecKeyId,
} from '@trackproject/integrations-client/codec';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import { registerCodecRoutes } from '../../api/routes/codec';
import type { OperatorAuditEntry } from '../../db/operatorAudit';
import { registerProblemHandlers } from '../../api/problem';
import { createLogger } from '../../lib/logger';
import { VendorError, VendorFailureType } from '../../activities/vendors/errors';
import type { Api } from '../../api/types';
import { integrationStateQuery, syncRequestedSignal, workflowIds } from '../../workflows/definitions';
import { requestSync } from '@trackproject/integrations-client/client';
import { integrationSearchAttributes } from '@trackproject/integrations-client/searchAttributes';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import {
  encodingOf,
  fetchHistoryJson,
  historyPayloads,
  isPatchMarker,
  isSearchAttribute,
  isTraceContextHeader,
} from '../support/codec';
import { SEARCH_ATTRIBUTES_PATCH } from '../../workflows/tagRun';
import { SHORTER_RUNS_PATCH } from '../../workflows/lifecycle';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR, MemoryConnector } from '../../dev/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

const key = () => crypto.randomBytes(32);
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);

describe('payload codec (unit)', () => {
  it('round-trips any payload and labels it binary/encrypted with the key id', async () => {
    const k = key();
    const codec = new EncryptionCodec([k]);
    const [encoded] = await codec.encode([json({ token: 'plain-secret', n: 1 })]);
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded!.metadata![KEY_ID_METADATA_KEY]!).toString()).toBe(codecKeyId(k));
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('plain-secret');
    const [decoded] = await codec.decode([encoded!]);
    expect(valueOf(decoded!)).toEqual({ token: 'plain-secret', n: 1 });
  });

  it('refuses a tampered payload, a wrong key, an unknown key id and a relabelled key id', async () => {
    const k = key();
    const codec = new EncryptionCodec([k]);
    const [encoded] = await codec.encode([json('value')]);

    const tampered = { ...encoded!, data: Buffer.from(encoded!.data!) };
    tampered.data[tampered.data.length - 1]! ^= 0x01;
    await expect(codec.decode([tampered])).rejects.toThrow(/failed authentication/);

    // Another key that claims the same key id (forged label) still fails authentication.
    const forger = new EncryptionCodec([key()]);
    const [foreign] = await forger.encode([json('value')]);
    await expect(
      codec.decode([
        { ...foreign!, metadata: { ...foreign!.metadata, [KEY_ID_METADATA_KEY]: Buffer.from(codecKeyId(k)) } },
      ]),
    ).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([foreign!])).rejects.toThrow(/unknown key id/);

    await expect(codec.decode([{ ...encoded!, data: Buffer.from(encoded!.data!).subarray(0, 10) }])).rejects.toThrow(
      /truncated/,
    );
    const { [KEY_ID_METADATA_KEY]: _dropped, ...withoutKeyId } = encoded!.metadata!;
    await expect(codec.decode([{ ...encoded!, metadata: withoutKeyId }])).rejects.toThrow(/no encryption-key-id/);
  });

  it('rotates: the new current key encrypts, the previous one still decrypts old payloads', async () => {
    const previous = key();
    const next = key();
    const [old] = await new EncryptionCodec([previous]).encode([json('old')]);
    const rotated = new EncryptionCodec([next, previous]);
    expect(valueOf((await rotated.decode([old!]))[0]!)).toBe('old');
    const [fresh] = await rotated.encode([json('new')]);
    expect(Buffer.from(fresh!.metadata![KEY_ID_METADATA_KEY]!).toString()).toBe(codecKeyId(next));
    await expect(new EncryptionCodec([previous]).decode([fresh!])).rejects.toThrow(/unknown key id/);
  });

  it('loads keys from the config: explicit key, key file (current first), generated development key; production requires one', () => {
    const k = key();
    const base = { env: 'development' as const, temporal: {} as never };
    expect(
      codecKeysFromConfig({ ...base, dataDir: '/nonexistent', temporal: { codecKey: k.toString('base64') } as never }),
    ).toEqual([k]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-'));
    const generated = codecKeysFromConfig({ ...base, dataDir: dir });
    expect(generated).toHaveLength(1);
    expect(fs.statSync(`${dir}/temporal-codec-key`).mode & 0o777).toBe(0o600);
    expect(codecKeysFromConfig({ ...base, dataDir: dir })).toEqual(generated); // created once
    const file = `${dir}/keys`;
    fs.writeFileSync(file, `# current first\n${k.toString('base64')}\n${generated[0]!.toString('base64')}\n`);
    expect(codecKeysFromConfig({ ...base, dataDir: dir, temporal: { codecKeyFile: file } as never })).toEqual([
      k,
      generated[0],
    ]);
    expect(() => codecKeysFromConfig({ ...base, env: 'production', dataDir: dir })).toThrow(/required in production/);
  });
});

/** A vendor whose grant is revoked: the failure message quotes a value that must not reach history in clear. */
class RevokedGrantConnector extends MemoryConnector {
  static readonly MESSAGE_CANARY = 'failure-text-canary-7d1e';
  override async fetchPage(): Promise<never> {
    throw new VendorError(
      VendorFailureType.ReauthorizationRequired,
      MEMORY_VENDOR,
      `grant rejected (401): ${RevokedGrantConnector.MESSAGE_CANARY}`,
      { status: 401 },
    );
  }
}

describe('encrypted histories on the dev server, and the UI codec endpoint', () => {
  const keys = [key()];
  const codec = new EncryptionCodec(keys);
  const dataConverter = createDataConverter(keys);
  let h: Harness;
  let failing: Harness;
  let ds: Awaited<ReturnType<typeof devServer>>;
  let client: Client;
  beforeAll(async () => {
    h = createHarness();
    failing = createHarness(new RevokedGrantConnector());
    ds = await devServer();
    client = new Client({ connection: ds.client.connection, namespace: 'default', dataConverter });
  });
  afterAll(async () => {
    await ds.close();
    await h.close();
    await failing.close();
  });

  const start = (
    workflowType: string,
    taskQueue: string,
    workflowId: string,
    process: string,
    ref: { workspaceId: string; integrationId: string },
    args: unknown[],
  ) =>
    client.workflow.start(workflowType, {
      taskQueue,
      workflowId,
      args,
      typedSearchAttributes: integrationSearchAttributes({ ...ref, vendor: MEMORY_VENDOR, process }),
    });

  const assertOnlyCiphertext = async (workflowId: string) => {
    const raw = await fetchHistoryJson(ds.client, workflowId); // a client WITHOUT the codec
    const payloads = historyPayloads(raw).filter(
      (p) => !isSearchAttribute(p) && !isPatchMarker(p) && !isTraceContextHeader(p),
    );
    for (const header of historyPayloads(raw).filter(isTraceContextHeader)) {
      const context = JSON.parse(Buffer.from(header.payload.data!).toString('utf8')) as Record<string, string>;
      expect(Object.keys(context).filter((key) => key !== 'traceparent' && key !== 'tracestate')).toEqual([]);
      expect(context.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]$/);
    }
    // A patch marker is written in the clear: it holds a patch id of ours and nothing else.
    for (const marker of historyPayloads(raw).filter(isPatchMarker))
      expect(JSON.parse(Buffer.from(marker.payload.data!).toString('utf8'))).toEqual({
        id: expect.stringMatching(new RegExp(`^(${SEARCH_ATTRIBUTES_PATCH}|${SHORTER_RUNS_PATCH})$`)),
        deprecated: false,
      });
    expect(payloads.length).toBeGreaterThan(0);
    expect(payloads.filter((p) => encodingOf(p.payload) !== ENCRYPTED_ENCODING).map((p) => p.path)).toEqual([]);
    return raw;
  };

  it('inputs, results, signals, updates, memos and failures are binary/encrypted in the raw history; the codec endpoint decodes them for an operator only', async () => {
    for (let i = 0; i < 3; i++) h.connector.upsert(`codec-${i}`, 't');
    const ref = await seedConnectedIntegration(h);
    const failingRef = await seedConnectedIntegration(failing);
    const taskQueue = uniqueTaskQueue('codec');
    const failingQueue = uniqueTaskQueue('codec-failing');
    const worker = await testWorker({ connection: ds.connection, taskQueue, activities: h.activities, dataConverter });
    const failingWorker = await testWorker({
      connection: ds.connection,
      taskQueue: failingQueue,
      activities: failing.activities,
      dataConverter,
    });
    const syncId = `${workflowIds.sync(ref.workspaceId, ref.integrationId)}/${crypto.randomUUID()}`;
    const lifecycleId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
    const failedId = workflowIds.sync(failingRef.workspaceId, failingRef.integrationId);

    await Promise.all([
      worker.runUntil(async () => {
        const sync = await start('syncWorkflow', taskQueue, syncId, 'sync', ref, [
          { ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } },
        ]);
        expect(await sync.result()).toMatchObject({ state: 'completed', recordsUpserted: 3 });

        const lifecycle = await start('integrationLifecycleWorkflow', taskQueue, lifecycleId, 'lifecycle', ref, [
          { ...ref, vendor: MEMORY_VENDOR },
        ]);
        // Handlers are installed after the run's first activity: wait until it answers queries.
        await pollUntil(
          () => lifecycle.query(integrationStateQuery).catch(() => undefined),
          (state) => state !== undefined,
        );
        await lifecycle.signal(syncRequestedSignal, { reason: 'webhook' });
        expect(await requestSync(lifecycle, { reason: 'admin', resource: 'issues' })).toMatchObject({
          syncWorkflowId: expect.any(String),
        });
        await pollUntil(
          async () => (await lifecycle.describe()).historyLength,
          (n) => n > 10,
        );
        await lifecycle.terminate('test over');
      }),
      failingWorker.runUntil(async () => {
        const run = await start('syncWorkflow', failingQueue, failedId, 'sync', failingRef, [
          { ...failingRef, vendor: MEMORY_VENDOR, request: { reason: 'admin' } },
        ]);
        const error = await run.result().catch((e: unknown) => e);
        // Decoded by the client's codec: the operator-facing error is intact.
        expect(error).toBeInstanceOf(WorkflowFailedError);
        expect(String(((error as WorkflowFailedError).cause?.cause as Error | undefined)?.message)).toContain(
          RevokedGrantConnector.MESSAGE_CANARY,
        );
      }),
    ]);

    const syncRaw = await assertOnlyCiphertext(syncId);
    const lifecycleRaw = await assertOnlyCiphertext(lifecycleId);
    expect(lifecycleRaw).toContain('workflowExecutionSignaledEventAttributes');
    expect(lifecycleRaw).toContain('workflowExecutionUpdateAcceptedEventAttributes');
    const failedRaw = await assertOnlyCiphertext(failedId);
    expect(failedRaw).toContain('activityTaskFailedEventAttributes');
    expect(failedRaw).toContain('workflowExecutionFailedEventAttributes');
    // Failure messages and stack traces are moved into the encrypted attributes.
    expect(failedRaw).not.toContain(RevokedGrantConnector.MESSAGE_CANARY);
    expect(failedRaw).not.toContain('grant rejected');
    expect(Buffer.from(failedRaw).toString('base64')).not.toContain(
      Buffer.from(RevokedGrantConnector.MESSAGE_CANARY).toString('base64'),
    );

    // The Temporal UI's remote codec decodes what the worker wrote, for an authorized operator only.
    const logLines: string[] = [];
    const app = Fastify({
      loggerInstance: createLogger({
        level: 'info',
        name: 'codec-test',
        destination: { write: (line: string) => logLines.push(line) },
      }),
    }) as unknown as Api;
    registerProblemHandlers(app);
    const uiUrl = 'http://localhost:8233/namespaces/default';
    const audited: OperatorAuditEntry[] = [];
    registerCodecRoutes(app, {
      codec,
      namespace: 'default',
      uiUrl,
      authorize: async (request) =>
        request.headers.authorization === 'Bearer ops-operator'
          ? { kind: 'operator', caller: { subject: 'ops-subject-1', method: 'oidc' } }
          : { kind: 'anonymous' },
      audit: { record: async (entry) => void audited.push(entry) },
    });
    await app.ready();
    try {
      const wireInput = JSON.parse(syncRaw).events[0].workflowExecutionStartedEventAttributes.input.payloads;
      const decode = (headers: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url: '/codec/decode',
          headers: {
            'content-type': 'application/json',
            origin: 'http://localhost:8233',
            'x-namespace': 'default',
            ...headers,
          },
          payload: { payloads: wireInput },
        });

      const anonymous = await decode({});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(anonymous.headers['access-control-allow-origin']).toBe('http://localhost:8233'); // the UI can read the 401
      expect(anonymous.body).not.toContain(ref.workspaceId);

      const decoded = await decode({ authorization: 'Bearer ops-operator' });
      expect(decoded.statusCode).toBe(200);
      const [input] = decoded.json().payloads as Array<{ metadata: Record<string, string>; data: string }>;
      expect(Buffer.from(input!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(Buffer.from(input!.data, 'base64').toString())).toMatchObject({
        ...ref,
        vendor: MEMORY_VENDOR,
        request: { reason: 'admin' },
      });

      // Encode round-trips through decode; a foreign namespace and a tampered payload are refused.
      const encoded = await app.inject({
        method: 'POST',
        url: '/codec/encode',
        headers: { authorization: 'Bearer ops-operator' },
        payload: { payloads: [input] },
      });
      expect(Buffer.from(encoded.json().payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
      expect((await decode({ authorization: 'Bearer ops-operator', 'x-namespace': 'other' })).statusCode).toBe(422);
      const tamperedData = Buffer.from(wireInput[0].data, 'base64');
      tamperedData[20]! ^= 0xff;
      const tampered = await app.inject({
        method: 'POST',
        url: '/codec/decode',
        headers: { authorization: 'Bearer ops-operator' },
        payload: { payloads: [{ ...wireInput[0], data: tamperedData.toString('base64') }] },
      });
      expect(tampered.statusCode).toBe(422);

      // CORS preflight: the UI origin with Authorization is allowed, any other origin is not.
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/codec/decode',
        headers: {
          origin: 'http://localhost:8233',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:8233');
      expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/Authorization/);
      const foreign = await app.inject({
        method: 'OPTIONS',
        url: '/codec/decode',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

      // Every call of the operator is in the operator audit, with its outcome.
      expect(audited.map((entry) => `${entry.action}:${entry.outcome}`)).toEqual([
        'codec.decode:success',
        'codec.encode:success',
        'codec.decode:failure',
      ]);
      expect(audited[0]).toMatchObject({ operator: 'ops-subject-1', authMethod: 'oidc', payloads: 1 });

      // Logged with the caller subject and counts, never the payload contents.
      const logs = logLines.join('\n');
      expect(logs).toContain('ops-subject-1');
      expect(logs).toContain('codec.decode');
      expect(logs).not.toContain(ref.workspaceId);
      expect(logs).not.toContain(wireInput[0].data);
    } finally {
      await app.close();
    }
  });
});
