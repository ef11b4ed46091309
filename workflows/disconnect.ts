/**
 * Disconnect (T4, T15): stop the lifecycle and any running sync, delete subscriptions, revoke at
 * the vendor, destroy secrets, clear the cache now; then wait (durably) for the purge deadline
 * — at most 30 days — and purge whatever source data is left, with a receipt.
 */
import { getExternalWorkflowHandle, log, patched, setHandler, sleep } from '@temporalio/workflow';
import { integrationActivities as act } from './activityProxies';
import {
  disconnectStateQuery,
  workflowIds,
  type DisconnectInput,
  type DisconnectResult,
  type DisconnectState,
} from './definitions';
import { tagRun } from './tagRun';

/** T15: cached source data is gone within 30 days of disconnect, whatever the caller asked. */
export const MAX_PURGE_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Patch id: subscriptions are deleted before the grant is revoked, while the vendor still accepts
 * the grant's token for it (Google answers 401 to `channels.stop` of a revoked grant's channel).
 * Runs started before it revoke first.
 */
export const UNSUBSCRIBE_BEFORE_REVOKE_PATCH = 'disconnect-unsubscribe-before-revoke';

export function clampPurgeDelay(requestedMs: number): number {
  return Math.min(Math.max(0, Number.isFinite(requestedMs) ? requestedMs : MAX_PURGE_DELAY_MS), MAX_PURGE_DELAY_MS);
}

/**
 * Requests cancellation of a run if there is one, without waiting for the answer: correctness
 * does not depend on it (the `disconnecting` status already stops every sync write), and a run
 * that does not exist must not hold the disconnect up.
 */
function cancelIfRunning(workflowId: string): void {
  getExternalWorkflowHandle(workflowId)
    .cancel()
    .catch(() => undefined); // not found / already closed: nothing to stop
}

export async function disconnectWorkflow(input: DisconnectInput): Promise<DisconnectResult> {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  const state: DisconnectState = { status: 'stopping' };
  setHandler(disconnectStateQuery, () => state);

  // Status first: from here on no sync page can commit (it re-checks the status under a row lock).
  const { vendor } = await act.beginDisconnect(ref);
  tagRun({ ...ref, vendor, process: 'disconnect' });
  cancelIfRunning(workflowIds.lifecycle(ref.workspaceId, ref.integrationId));
  cancelIfRunning(workflowIds.sync(ref.workspaceId, ref.integrationId));

  state.status = 'revoking';
  const unsubscribeFirst = patched(UNSUBSCRIBE_BEFORE_REVOKE_PATCH);
  if (unsubscribeFirst) await act.deleteSubscriptions(ref);
  const revocation = await act.revokeAtVendor(ref);
  state.revokedAtVendor = revocation.revoked;
  state.vendorNote = revocation.note;
  if (!unsubscribeFirst) await act.deleteSubscriptions(ref);
  await act.destroySecrets(ref);

  state.status = 'clearing';
  const purgeDelayMs = clampPurgeDelay(input.purgeDelayMs);
  const purgeAfter = new Date(Date.now() + purgeDelayMs).toISOString();
  await act.clearCacheAndMarkDisconnected({
    ...ref,
    actor: input.actor,
    purgeAfter,
    revokedAtVendor: revocation.revoked,
  });

  state.status = 'waiting-purge';
  state.purgeDeadline = purgeAfter;
  log.info('integration disconnected; purge scheduled', {
    ...ref,
    vendor,
    revokedAtVendor: revocation.revoked,
    purgeAfter,
  });
  await sleep(purgeDelayMs);
  const purge = await act.purgeIntegration(ref);
  state.status = 'purged';
  state.receiptId = purge.receiptId;
  log.info('integration purged', { ...ref, vendor, receiptId: purge.receiptId });
  return {
    revokedAtVendor: revocation.revoked,
    vendorNote: revocation.note,
    receiptId: purge.receiptId,
    counts: purge.counts,
  };
}
