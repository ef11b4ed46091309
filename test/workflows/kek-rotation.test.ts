/**
 * KEK rotation end to end: the `kekRotationWorkflow` on the time-skipping server, its activities on
 * a real (isolated) Postgres, the AWS KMS provider against moto_server. A worker "crashes" in the
 * middle of a batch; another worker resumes and the rotation completes with every DEK re-wrapped
 * exactly once, every secret written before the rotation still readable, and the old key disabled
 * only after verification. The Schedule that runs it is checked on the dev server.
 * `RECORD_HISTORIES=1` also records the run as a replay fixture.
 */
import crypto from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ScheduleNotFoundError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { AwsKmsKeyProvider, SecretStore, type KeyProvider } from '../../db/secrets';
import { createLogger } from '../../lib/logger';
import type { KekRotationResult } from '@trackproject/integrations-client/definitions';
import { KEK_SWITCH_GRACE } from '../../workflows/kekRotation';
import { KEK_ROTATION_SCHEDULE_ID, ensureMaintenanceSchedules } from '../../workers/schedules';
import { labelled, saveFixture } from '../../dev/historyFixtures';
import { historyToJson } from '../../dev/historyJson';
import { createIsolatedDatabase, seedIntegration, type IsolatedDatabase } from '../support/isolatedDatabase';
import { startMotoKms, type MotoKms } from '../support/motoServer';
import { devServer, testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { pollUntil } from './support/workflowHelpers';

const SECRETS = 250; // two batches: 200 and 50
const CRASH_AT_WRAP = 225; // in the middle of the second batch

/**
 * The provider as a worker that dies at its `crashAt`-th re-wrap sees it: from then on nothing it
 * does completes (a retry that lands on it before it is gone fails as well).
 */
function crashingAt(keys: KeyProvider, crashAt: number, onCrash: () => void): KeyProvider {
  let wraps = 0;
  let dead = false;
  const alive = <T>(step: () => Promise<T>): Promise<T> => {
    if (wraps < crashAt) return step();
    if (!dead) onCrash();
    dead = true;
    return Promise.reject(new Error('worker process lost mid-batch'));
  };
  return {
    kind: keys.kind,
    currentKeyId: () => alive(() => keys.currentKeyId()),
    generateDataKey: (context) => alive(() => keys.generateDataKey(context)),
    unwrapKey: (keyId, wrapped, context) => alive(() => keys.unwrapKey(keyId, wrapped, context)),
    rotateKey: (rotationId) => alive(() => keys.rotateKey(rotationId)),
    retireKey: (keyId) => alive(() => keys.retireKey(keyId)),
    wrapKey(dek, context) {
      wraps += 1;
      return alive(() => keys.wrapKey(dek, context));
    },
  };
}

describe('T6 T8: KEK rotation on a cadence', () => {
  let moto: MotoKms;
  let isolated: IsolatedDatabase;

  beforeAll(async () => {
    moto = await startMotoKms();
    isolated = await createIsolatedDatabase('kekrotation');
  }, 300_000);
  afterAll(async () => {
    await Promise.all([moto?.stop(), isolated?.drop()]);
  });

  it('T6 T8: the rotation workflow re-wraps every DEK under a new KMS key, survives a worker crash mid-batch, keeps old secrets readable and disables the old key only after verification', async () => {
    const kms = moto.client();
    const first = await kms.send(new CreateKeyCommand({ Description: 'secrets KEK' }));
    const alias = `alias/trackproject-secrets-${crypto.randomUUID()}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: first.KeyMetadata!.KeyId! }));
    const keys = new AwsKmsKeyProvider({ keyId: alias, region: moto.region, endpoint: moto.endpoint }, kms);
    const store = new SecretStore(isolated.worker, keys);

    // Secrets of two workspaces, written before the rotation.
    const written: { workspaceId: string; secretId: string; plaintext: string }[] = [];
    const workspaces = [await seedIntegration(isolated.superuser), await seedIntegration(isolated.superuser)];
    for (let i = 0; i < SECRETS; i += 1) {
      const ws = workspaces[i % 2]!;
      const plaintext = `canary-${crypto.randomUUID()}`;
      const { secretId } = await store.put({
        ...ws,
        integrationId: null,
        kind: 'webhook-secret',
        plaintext,
        state: 'pending',
      });
      written.push({ workspaceId: ws.workspaceId, secretId, plaintext });
    }
    const before = await isolated.superuser('secrets').select('secret_id', 'wrapped_dek', 'ciphertext');

    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('kek-rotation');
    const logger = createLogger({ level: 'silent', name: 'test' });
    const rotationId = `maintenance/kek-rotation/test-${crypto.randomUUID()}`;
    // Workflows on one worker throughout; the rotation's activities on worker processes that come and go.
    const workflows = await testWorker({ connection: env.nativeConnection, taskQueue, activities: {} });
    const activityWorker = (provider: KeyProvider) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue,
        activities: createActivities({ db: isolated.worker, logger, keys: provider }),
      });
    try {
      const handle = await env.client.workflow.start('kekRotationWorkflow', { taskQueue, workflowId: rotationId });
      const result: KekRotationResult = await workflows.runUntil(async () => {
        // The first activity worker dies in the middle of the second batch: its batch's transaction
        // never commits, and it is gone before the retry (10 s later: the test server's clock stands
        // still until the run is awaited) is handed out.
        let crashed!: () => void;
        const crash = new Promise<void>((resolve) => (crashed = resolve));
        const doomed = await activityWorker(crashingAt(keys, CRASH_AT_WRAP, () => crashed()));
        await doomed.runUntil(async () => {
          // The grace period after the switch to the new key, once its timer runs.
          await pollUntil(
            async () => (await handle.fetchHistory()).events ?? [],
            (events) => events.some((event) => event.timerStartedEventAttributes),
          );
          await env.sleep(KEK_SWITCH_GRACE);
          await crash;
          await new Promise((resolve) => setTimeout(resolve, 500)); // the failed attempt is reported
        });
        const underOldKey = await isolated
          .superuser('secrets')
          .where({ kek_id: first.KeyMetadata!.Arn! })
          .count({ n: '*' });
        expect(Number(underOldKey[0]!.n)).toBe(SECRETS - 200); // batch 1 committed, batch 2 rolled back
        const survivor = await activityWorker(keys);
        return survivor.runUntil(handle.result());
      });

      const newKey = await keys.currentKeyId();
      expect(newKey).not.toBe(first.KeyMetadata!.Arn);
      expect(result).toEqual({
        rotationId,
        provider: 'aws-kms',
        targetKeyId: newKey,
        rewrapped: SECRETS,
        verified: SECRETS,
        retired: [{ keyId: first.KeyMetadata!.Arn, outcome: 'disabled' }],
      });
      // Every DEK under the new key, payloads untouched, every secret written before still readable.
      const after = await isolated.superuser('secrets').select('secret_id', 'kek_id', 'wrapped_dek', 'ciphertext');
      expect(new Set(after.map((row) => row.kek_id))).toEqual(new Set([newKey]));
      for (const row of after) {
        const old = before.find((b) => b.secret_id === row.secret_id)!;
        expect(row.ciphertext.equals(old.ciphertext)).toBe(true);
        expect(row.wrapped_dek.equals(old.wrapped_dek)).toBe(false);
      }
      for (const w of written) expect((await store.read(w.workspaceId, w.secretId)).toString()).toBe(w.plaintext);
      const oldKey = await kms.send(new DescribeKeyCommand({ KeyId: first.KeyMetadata!.Arn! }));
      expect(oldKey.KeyMetadata?.KeyState).toBe('Disabled');

      // The audit record: each committed batch once (the rolled-back one never), retirement after verification.
      const log = await isolated.superuser('kek_rotation_log').where({ rotation_id: rotationId }).orderBy('id');
      expect(log.map((e) => [e.event, e.secrets])).toEqual([
        ['started', null],
        ['rewrapped', 200],
        ['rewrapped', 50],
        ['verified', SECRETS],
        ['key-retired', null],
        ['completed', null],
      ]);
      expect(log[0]).toMatchObject({ provider: 'aws-kms', key_id: newKey, replaced_key_id: first.KeyMetadata!.Arn });

      // The history carries key ids and counts only: no secret, DEK or wrapped DEK.
      const recorded = historyToJson(await handle.fetchHistory());
      const leaks = [
        ...written.map((w) => w.plaintext),
        ...after.flatMap((row) => [row.wrapped_dek.toString('base64'), row.wrapped_dek.toString('hex')]),
      ].filter((value) => recorded.includes(value));
      expect(leaks).toEqual([]);
      // Kept forever: a new shape is saved under RECORD_HISTORIES_LABEL, never over the old one.
      if (process.env.RECORD_HISTORIES === '1') saveFixture(labelled('kekRotationWorkflow'), recorded);
    } finally {
      kms.destroy();
      await env.teardown();
    }
  }, 600_000);

  it('T8: the worker bootstrap creates the rotation Schedule at the configured cadence, updates it, and removes it when turned off', async () => {
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('kek-schedule');
    const day = 24 * 60 * 60 * 1000;
    try {
      await ensureMaintenanceSchedules(server.client, taskQueue, { kekRotationEveryMs: 90 * day });
      const handle = server.client.schedule.getHandle(KEK_ROTATION_SCHEDULE_ID);
      let description = await handle.describe();
      expect(description.action).toMatchObject({ workflowType: 'kekRotationWorkflow', taskQueue });
      expect(description.spec.intervals?.[0]?.every).toBe(90 * day);
      // A restart with another cadence updates the same schedule.
      await ensureMaintenanceSchedules(server.client, taskQueue, { kekRotationEveryMs: 30 * day });
      description = await handle.describe();
      expect(description.spec.intervals?.[0]?.every).toBe(30 * day);
      await ensureMaintenanceSchedules(server.client, taskQueue, {});
      await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    } finally {
      await server.close();
    }
  });
});
