/**
 * T8: secret rotation on the time-skipping server with the memory connector and real Postgres:
 * the lifecycle rotates OAuth tokens at the real default cadence (30 days), the previous version is
 * retired after the grace period, a failed test leaves the current version untouched (audited,
 * typed failure, memo), and `rotateNowSignal` rotates on demand.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  connectStateQuery,
  integrationStateQuery,
  RECONNECTED_EVENT,
  RENEWAL_REQUEST_LEAD_MS,
  rotateNowSignal,
  ROTATION_CADENCE_MS,
  ROTATION_GRACE_MS,
  vendorLifecycleSignal,
  workflowIds,
} from '../../workflows/definitions';
import { createVendorHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from '../../dev/memoryConnector';
import { testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { ADMIN, pollUntil, useTimeSkippingWorkers } from './support/workflowHelpers';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('T8: secret rotation workflow (time-skipping server, real Postgres)', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let taskQueue: string;
  useTimeSkippingWorkers('rotate', (parts) => ({ h, env, worker, taskQueue } = parts));

  const tokenVersions = async (integrationId: string) =>
    (await h
      .admin('secrets')
      .where({ integration_id: integrationId, kind: 'oauth-tokens' })
      .orderBy('version')
      .select('secret_id', 'version', 'state')) as Array<{ secret_id: string; version: number; state: string }>;

  async function withLifecycle(
    ref: { workspaceId: string; integrationId: string },
    body: (handle: WorkflowHandle) => Promise<void>,
  ) {
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue,
        workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR }],
      });
      try {
        await body(handle);
      } finally {
        await handle.terminate('test over');
      }
    });
  }

  it('T8: the lifecycle rotates OAuth tokens at the real 30-day default cadence: new version tested, promoted, previous retired after the grace period', async () => {
    const ref = await seedConnectedIntegration(h);
    const cadence = ROTATION_CADENCE_MS['oauth-tokens'];
    await withLifecycle(ref, async (handle) => {
      const before = await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.nextRotationAt !== undefined,
      );
      const dueAt = Date.parse(before.nextRotationAt!);
      await env.sleep(cadence + ROTATION_GRACE_MS['oauth-tokens'] + MINUTE);
      const after = await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.lastRotation !== undefined,
      );
      expect(after.lastRotation).toMatchObject({ kind: 'oauth-tokens', status: 'rotated' });
      expect(Date.parse(after.nextRotationAt!) - dueAt).toBeGreaterThanOrEqual(cadence);

      const history = await handle.fetchHistory();
      const rotationStarts = history.events!.filter(
        (e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'rotateSecretWorkflow',
      );
      expect(rotationStarts).toHaveLength(1);
      const startedAt = Number(rotationStarts[0]!.eventTime!.seconds) * 1000;
      expect(startedAt).toBeGreaterThanOrEqual(dueAt - 1_000);
      expect(startedAt).toBeLessThan(dueAt + MINUTE);
    });
    expect((await tokenVersions(ref.integrationId)).map((v) => v.state)).toEqual(['retired', 'current']);
    // The new token was proven against the vendor before promotion.
    expect(h.connector.testedTokens).toContain('seed-access+');
    const audit = await h.admin('audit_log').where({ integration_id: ref.integrationId }).pluck('action');
    expect(audit).toEqual(expect.arrayContaining(['oauth.refresh', 'user.get', 'secret.promoted', 'secret.retired']));
  });

  it('T8: a failed test retires the pending version, leaves the current one untouched, is audited and fails with RotationTestFailed (memo)', async () => {
    const ref = await seedConnectedIntegration(h);
    const [current] = await tokenVersions(ref.integrationId);
    h.connector.failNextTest = true;
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('rotateSecretWorkflow', {
        taskQueue,
        workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR, kind: 'oauth-tokens', actor: ADMIN }],
      });
      const failure = await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause.type).toBe('RotationTestFailed');
      expect(cause.message).not.toMatch(/seed-access|memory-access/);
      const { memo } = await handle.describe();
      expect(memo).toMatchObject({ rotation: 'test-failed', rotationFailure: 'ReauthorizationRequired' });
    });
    const versions = await tokenVersions(ref.integrationId);
    expect(versions).toEqual([
      { secret_id: current!.secret_id, version: 1, state: 'current' },
      expect.objectContaining({ version: 2, state: 'retired' }),
    ]);
    const entry = await h
      .admin('audit_log')
      .where({ integration_id: ref.integrationId, action: 'secret.rotation' })
      .first();
    expect(entry).toMatchObject({ outcome: 'failure', error_class: 'RotationTestFailed' });
  });

  const secretStates = async (integrationId: string, kind: string) =>
    (await h
      .admin('secrets')
      .where({ integration_id: integrationId, kind })
      .orderBy('version')
      .select('secret_id', 'state')) as Array<{ secret_id: string; state: string }>;
  const serviceAccount = (
    ref: { workspaceId: string; integrationId: string },
    key: string,
    state: 'pending' | 'current',
  ) => h.secrets.put({ ...ref, kind: 'service-account', state, plaintext: key });

  it('T6 T8: a replaced service-account credential is tested before it is promoted: one lacking a permission is retired, the current one stays, and the connect run names the permission', async () => {
    const ref = await seedConnectedIntegration(h);
    const current = await serviceAccount(ref, 'sa-key-in-use', 'current');
    const lacking = await serviceAccount(ref, 'sa-key-without-role', 'pending');
    h.connector.missingPermissions.set('sa-key-without-role', 'purchase-orders:read');
    await worker.runUntil(async () => {
      const connect = await env.client.workflow.start('connectWorkflow', {
        taskQueue,
        workflowId: workflowIds.connect(ref.workspaceId, ref.integrationId),
        args: [
          {
            ...ref,
            vendor: MEMORY_VENDOR,
            requestedScopes: ['repo:read'],
            controls: {},
            redirectUri: 'https://app.example.test/callback',
            actor: ADMIN,
            reconnect: true,
            credentialSecretId: lacking.secretId,
          },
        ],
      });
      expect(await connect.result()).toEqual({ status: 'failed', failure: 'MissingScope' });
      expect(await connect.query(connectStateQuery)).toMatchObject({
        status: 'failed',
        failure: 'MissingScope',
        missingPermission: 'purchase-orders:read',
      });
    });
    expect(h.connector.testedTokens).toContain('sa-key-without-role');
    expect(await secretStates(ref.integrationId, 'service-account')).toEqual([
      { secret_id: current.secretId, state: 'current' },
      { secret_id: lacking.secretId, state: 'retired' },
    ]);
    expect(await h.admin('integrations').where({ integration_id: ref.integrationId }).first()).toMatchObject({
      status: 'connected',
    });
    const entry = await h
      .admin('audit_log')
      .where({ integration_id: ref.integrationId, action: 'secret.rotation' })
      .first();
    expect(entry).toMatchObject({ outcome: 'failure', error_class: 'RotationTestFailed', scope: 'service-account' });

    // The admin grants the role and uploads again: tested, then promoted; the old key is kept as previous.
    const fixed = await serviceAccount(ref, 'sa-key-with-role', 'pending');
    await new MockActivityEnvironment().run(h.activities.adoptServiceAccount, {
      ...ref,
      credentialSecretId: fixed.secretId,
    });
    expect((await secretStates(ref.integrationId, 'service-account')).map((s) => s.state)).toEqual([
      'previous',
      'retired',
      'current',
    ]);
  });

  it('T8: a due service-account rotation asks the admin for the new credential (the vendor has no key API): audited as renewal requested, nothing minted, nothing audited as not supported', async () => {
    const ref = await seedConnectedIntegration(h);
    await serviceAccount(ref, 'sa-key-in-use', 'current');
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('rotateSecretWorkflow', {
        taskQueue,
        workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR, kind: 'service-account', actor: ADMIN }],
      });
      expect(await handle.result()).toEqual({ status: 'renewal-requested' });
      expect((await handle.describe()).memo).toMatchObject({ rotation: 'renewal-requested' });
    });
    expect((await secretStates(ref.integrationId, 'service-account')).map((s) => s.state)).toEqual(['current']);
    const audit = await h.admin('audit_log').where({ integration_id: ref.integrationId });
    expect(audit.map((a) => [a.action, a.scope, a.outcome])).toContainEqual([
      'secret.renewal-requested',
      'service-account',
      'success',
    ]);
    expect(audit.map((a) => a.error_class)).not.toContain('RotationNotSupported');
  });

  it('T8: rotateNowSignal rotates at once on behalf of the admin, and the cadence restarts from then', async () => {
    const ref = await seedConnectedIntegration(h);
    await withLifecycle(ref, async (handle) => {
      const before = await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.nextRotationAt !== undefined,
      );
      await handle.signal(rotateNowSignal, { actor: ADMIN });
      const rotation = env.client.workflow.getHandle(workflowIds.rotate(ref.workspaceId, ref.integrationId));
      await pollUntil(
        () =>
          rotation.describe().then(
            (d) => d.status.name,
            () => 'NOT_STARTED',
          ),
        (s) => s !== 'NOT_STARTED',
      );
      const started = (await rotation.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
      const input = await env.client.options.loadedDataConverter.payloadConverter.fromPayload(
        started.input!.payloads![0]!,
      );
      expect(input).toMatchObject({ kind: 'oauth-tokens', actor: ADMIN });
      await env.sleep(ROTATION_GRACE_MS['oauth-tokens'] + MINUTE);
      const after = await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.lastRotation !== undefined,
      );
      expect(after.lastRotation).toMatchObject({ kind: 'oauth-tokens', status: 'rotated' });
      expect(Date.parse(after.nextRotationAt!)).toBeGreaterThan(Date.parse(before.nextRotationAt!));
    });
    expect((await tokenVersions(ref.integrationId)).map((v) => v.state)).toEqual(['retired', 'current']);
  });
});

describe('T8: a service-account row’s lifecycle asks the admin for the new credential (time-skipping server, real Postgres)', () => {
  // The memory vendor as a service-account row: its vendor has no API to set a new key.
  const connector = new MemoryConnector();
  const h = createVendorHarness([{ descriptor: { ...memoryDescriptor, authKind: 'service-account' }, connector }]);
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env.teardown();
    await h.close();
  });

  it('T8: before the 90-day cadence ends the lifecycle marks the renewal requested (status and audit) and asks again weekly; the admin’s adopted upload completes the rotation and restarts the cadence', async () => {
    const ref = await seedConnectedIntegration(h);
    await h.secrets.put({ ...ref, kind: 'service-account', state: 'current', plaintext: 'sa-key-in-use' });
    const taskQueue = uniqueTaskQueue('rotate-renewal');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue,
        workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR }],
      });
      try {
        const before = await pollUntil(
          () => handle.query(integrationStateQuery),
          (s) => s.nextRotationAt !== undefined,
        );
        const startedAt = Date.parse(before.nextRotationAt!) - ROTATION_CADENCE_MS['service-account'];
        // Requested 14 days before the credential's 90 days are up.
        expect(ROTATION_CADENCE_MS['service-account'] + RENEWAL_REQUEST_LEAD_MS).toBe(90 * DAY);
        await env.sleep(ROTATION_CADENCE_MS['service-account'] + MINUTE);
        const requested = await pollUntil(
          () => handle.query(integrationStateQuery),
          (s) => s.renewalRequested !== undefined,
        );
        expect(requested.renewalRequested!.kind).toBe('service-account');
        expect(requested.lastRotation).toMatchObject({ kind: 'service-account', status: 'renewal-requested' });
        expect(Date.parse(requested.renewalRequested!.since) - startedAt).toBeLessThan(90 * DAY);
        // Still waiting a week later: asked again, still the first request's date.
        await env.sleep(7 * DAY + MINUTE);
        const reminded = await pollUntil(
          () => h.admin('audit_log').where({ integration_id: ref.integrationId, action: 'secret.renewal-requested' }),
          (entries) => entries.length >= 2,
        );
        expect(reminded.every((entry) => entry.outcome === 'success' && entry.scope === 'service-account')).toBe(true);
        expect((await handle.query(integrationStateQuery)).renewalRequested).toEqual(requested.renewalRequested);

        // The admin's upload was tested and adopted by a reconnect run, which tells the lifecycle.
        await handle.signal(vendorLifecycleSignal, { event: RECONNECTED_EVENT });
        const renewed = await pollUntil(
          () => handle.query(integrationStateQuery),
          (s) => s.renewalRequested === undefined,
        );
        expect(renewed.lastRotation).toMatchObject({ kind: 'service-account', status: 'rotated' });
        expect(Date.parse(renewed.nextRotationAt!) - Date.parse(renewed.lastRotation!.at)).toBe(
          ROTATION_CADENCE_MS['service-account'],
        );
        await pollUntil(
          () => handle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed',
        );
      } finally {
        await handle.terminate('test over');
      }
    });
    const audit = await h.admin('audit_log').where({ integration_id: ref.integrationId });
    expect(audit.map((entry) => entry.error_class)).not.toContain('RotationNotSupported');
  });
});
