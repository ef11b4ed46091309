/**
 * Secret rotation (T8): a pending version is minted where we can (OAuth: a refresh issues a new
 * token pair; an integration's webhook secret: a random one, handed to the vendor by its test),
 * tested against the vendor, promoted (current → previous),
 * and the previous version is retired after a grace period on a durable timer. Every step is an
 * idempotent activity. A failed test retires the pending version, leaves the current one
 * untouched, is audited, and fails this run with `RotationTestFailed` (memo `rotation`).
 */
import { ApplicationFailure, setHandler, sleep, upsertMemo } from '@temporalio/workflow';
import { integrationActivities as act } from './activityProxies';
import { failureType } from './failures';
import {
  ROTATION_GRACE_MS,
  rotationStateQuery,
  type RotateInput,
  type RotateResult,
  type RotationState,
} from './definitions';
import { tagRun } from './tagRun';

export const ROTATION_TEST_FAILED = 'RotationTestFailed';

export async function rotateSecretWorkflow(input: RotateInput): Promise<RotateResult> {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  tagRun({ ...ref, vendor: input.vendor, process: 'rotate' });
  const state: RotationState = { status: 'preparing', kind: input.kind };
  setHandler(rotationStateQuery, () => state);

  const prepared = await act.prepareRotation({ ...ref, kind: input.kind, actor: input.actor });
  if (!prepared.pendingSecretId) {
    // Nothing to mint here: the admin was asked for the new secret, or it is our app's (operator).
    // Histories from before these outcomes existed answer no outcome: they replay as `not-supported`.
    const outcome = prepared.outcome ?? 'not-supported';
    state.status = outcome;
    upsertMemo({ rotation: outcome });
    return { status: outcome };
  }
  state.newVersion = prepared.version;

  state.status = 'testing';
  try {
    await act.testPendingSecret({ ...ref, secretId: prepared.pendingSecretId });
  } catch (error) {
    const failure = failureType(error) ?? 'TestFailed';
    await act.retireSecret({ ...ref, secretId: prepared.pendingSecretId, reason: 'test-failed' });
    state.status = 'test-failed';
    state.failure = failure;
    upsertMemo({ rotation: 'test-failed', rotationFailure: failure });
    throw ApplicationFailure.create({
      type: ROTATION_TEST_FAILED,
      message: `the new ${input.kind} version failed its test (${failure}); the current version is unchanged`,
      nonRetryable: true,
      details: [{ kind: input.kind, failure }],
    });
  }

  state.status = 'promoting';
  await act.promoteSecret({ ...ref, secretId: prepared.pendingSecretId });

  const graceMs = input.gracePeriodMs ?? ROTATION_GRACE_MS[input.kind];
  state.status = 'grace-period';
  state.retireAt = new Date(Date.now() + graceMs).toISOString();
  await sleep(graceMs);
  if (prepared.previousSecretId)
    await act.retireSecret({ ...ref, secretId: prepared.previousSecretId, reason: 'grace-period-over' });
  state.status = 'rotated';
  upsertMemo({ rotation: 'rotated' });
  return { status: 'rotated', newVersion: prepared.version };
}
