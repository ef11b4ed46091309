/**
 * The example backend service (`examples/backend-service/`) starts a sync through the client package
 * against the dev server and a real worker (real activities, real Postgres) that encrypts with the
 * service's codec keys; it reads the result and queries the run with the same keys. The payloads
 * the service wrote are ciphertext in the history, and decode with the independent implementation
 * of docs/payload-encryption.md.
 */
import crypto from 'node:crypto';
import { Connection } from '@temporalio/client';
import {
  createDataConverter,
  createIntegrationsClient,
  WorkspaceIdKey,
  type SyncProgress,
} from '@trackproject/integrations-client';
import { createSyncService } from '../../examples/backend-service/syncService';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { testStack } from '../support/stackInfo';
import { cachedIds, createHarness, seedConnectedIntegration, type Harness } from '../workflows/support/harness';
import { specDecrypt, type SpecPayload } from './specDecoder';

describe('example backend service through @trackproject/integrations-client (dev server, real worker)', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness();
  });
  afterAll(() => h.close());

  it('starts a sync with typed references, reads its result and progress with the service encryption; the history holds ciphertext that the spec alone decodes', async () => {
    for (let i = 0; i < 5; i++) h.connector.upsert(`client-${i}`, 't');
    const ref = await seedConnectedIntegration(h);
    const keys = [crypto.randomBytes(32)];
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('backend-service');
    const connection = await Connection.connect({ address: testStack().temporalAddress });
    try {
      const worker = await testWorker({
        connection: server.connection,
        taskQueue,
        activities: h.activities,
        dataConverter: createDataConverter(keys),
      });
      const service = createSyncService(connection, keys, { taskQueue });
      const { workflowId, progress, queried } = await worker.runUntil(async () => {
        const synced = await service.syncNow({ ...ref, vendor: MEMORY_VENDOR });
        // A closed run still answers its query (replayed by a worker with the same keys).
        return { ...synced, queried: await service.progress(synced.workflowId) };
      });
      expect(progress).toMatchObject({ state: 'completed', recordsUpserted: 5, recordsDeleted: 0 });
      expect(queried).toEqual(progress);
      expect((await cachedIds(h, ref.integrationId)).filter((id) => id.startsWith('client-'))).toHaveLength(5);

      // Indexed by workspace from its first event, as the API starts runs.
      const described = await createIntegrationsClient(connection, keys).handle('syncWorkflow', workflowId).describe();
      expect(described.typedSearchAttributes.get(WorkspaceIdKey)).toBe(ref.workspaceId);
      // Without the keys nothing is readable: a plain client decodes neither the memo nor the result.
      const raw = server.client.workflow.getHandle(workflowId);
      await expect(raw.describe()).rejects.toThrow(/Unknown encoding: binary\/encrypted/);
      await expect(raw.result()).rejects.toThrow(/Unknown encoding: binary\/encrypted/);

      const events = (await raw.fetchHistory()).events ?? [];
      const asSpec = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }): SpecPayload => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
        data: Buffer.from(p.data ?? new Uint8Array()),
      });
      const input = asSpec(events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!);
      const result = asSpec(events.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!);
      for (const payload of [input, result]) {
        expect(payload.metadata.encoding!.toString()).toBe('binary/encrypted');
        expect(payload.data.toString('latin1')).not.toContain(ref.workspaceId);
      }
      const decodedInput = specDecrypt(input, keys);
      expect(decodedInput.metadata.encoding!.toString()).toBe('json/plain');
      expect(JSON.parse(decodedInput.data.toString('utf8'))).toEqual({
        ...ref,
        vendor: MEMORY_VENDOR,
        request: { reason: 'admin' },
      });
      // The result was written by the worker: the service's own encryption, read from the spec.
      expect(JSON.parse(specDecrypt(result, keys).data.toString('utf8')) as SyncProgress).toEqual(progress);
      expect(() => specDecrypt(result, [crypto.randomBytes(32)])).toThrow(/unknown key id/);
    } finally {
      await connection.close();
      await server.close();
    }
  }, 90_000);
});
