import { ApplicationFailure, continueAsNew, log, sleep, workflowInfo } from '@temporalio/workflow';
import type { KekRotationResult, KekRotationResume } from '@trackproject/integrations-client/definitions';
import { proxySteps } from './activityProxies';

const { beginKekRotation, rewrapDataKeys, verifyKekRotation, retireKek, completeKekRotation } = proxySteps({
  // A batch is a few hundred KMS round-trips and one transaction.
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
});

/**
 * A writer that resolved the old KEK just before the switch (an API request between GenerateDataKey
 * and its insert) has committed well within this; the re-wrap then sees its row too.
 */
export const KEK_SWITCH_GRACE = '5 minutes';
/** Verification rounds before giving up: only writers still holding an old KEK keep it from passing. */
const MAX_VERIFY_ROUNDS = 5;

/**
 * Run by the `maintenance/kek-rotation` Schedule (T6, T8): makes a new KEK current, re-wraps every
 * DEK under it in committed, verified batches (a crash resumes at the next batch), verifies that no
 * DEK is left under an older KEK, and only then retires the old KEKs. The history holds key ids and
 * counts, never key material.
 */
export async function kekRotationWorkflow(resume?: KekRotationResume): Promise<KekRotationResult> {
  const rotationId = resume?.rotationId ?? workflowInfo().workflowId;
  const plan = resume?.plan ?? (await beginKekRotation({ rotationId }));
  const target = { rotationId, targetKeyId: plan.targetKeyId };
  if (!resume) await sleep(KEK_SWITCH_GRACE);
  let rewrapped = resume?.rewrapped ?? 0;
  let verified: number | undefined;
  for (let round = 1; verified === undefined; round++) {
    for (;;) {
      const batch = await rewrapDataKeys(target);
      rewrapped += batch.rewrapped;
      if (batch.remaining === 0 || batch.rewrapped === 0) break;
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof kekRotationWorkflow>({ rotationId, plan, rewrapped });
      }
    }
    const check = await verifyKekRotation(target);
    if (check.elsewhere === 0) {
      verified = check.underTarget;
    } else if (round === MAX_VERIFY_ROUNDS) {
      throw ApplicationFailure.nonRetryable(
        `${check.elsewhere} data keys are still under older keys after ${round} rounds; old keys are kept`,
        'KekRotationUnverified',
      );
    } else {
      log.warn('KEK rotation: data keys written under an older key; waiting for writers', {
        elsewhere: check.elsewhere,
      });
      await sleep(KEK_SWITCH_GRACE);
    }
  }
  const retired: KekRotationResult['retired'] = [];
  for (const keyId of plan.previousKeyIds) {
    retired.push({ keyId, outcome: await retireKek({ rotationId, keyId }) });
  }
  await completeKekRotation(target);
  return { rotationId, provider: plan.provider, targetKeyId: plan.targetKeyId, rewrapped, verified, retired };
}
