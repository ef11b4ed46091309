/**
 * KEK rotation steps (the `maintenance/kek-rotation` Schedule's workflow). Only key ids and counts
 * cross into the workflow history; DEKs stay inside `rewrapDataKeys`, and KEKs inside the provider.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import {
  IntegrityError,
  KekChangedError,
  UnknownKeyError,
  kekUsage,
  recordRotationEvent,
  rewrapBatch,
  startedRotation,
  type KeyProvider,
  type KeyRetirement,
} from '../db/secrets';
import type { KekRotationPlan } from '@trackproject/integrations-client/definitions';

export type { KeyRetirement };

/** Failures a retry cannot fix: a KEK the provider does not hold, a wrap that does not verify, a KEK moved mid-rotation. */
const KEY_FAILURES = [UnknownKeyError, IntegrityError, KekChangedError];

async function finalOnKeyFailure<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const keyFailure = KEY_FAILURES.find((type) => error instanceof type);
    if (!keyFailure) throw error;
    throw ApplicationFailure.create({
      type: keyFailure.name,
      message: (error as Error).message,
      nonRetryable: true,
    });
  }
}

export function createKeyRotationActivities(deps: { db: Knex; keys: KeyProvider }) {
  const { db, keys } = deps;
  return {
    /**
     * Makes a new KEK current (AWS: a new key behind the alias; local: the key configured first)
     * and records the rotation. A retry returns what the first attempt recorded.
     */
    async beginKekRotation(input: { rotationId: string }): Promise<KekRotationPlan> {
      const recorded = await startedRotation(db, input.rotationId);
      const rotation = recorded ?? (await finalOnKeyFailure(() => keys.rotateKey(input.rotationId)));
      if (!recorded) await recordRotationEvent(db, input.rotationId, keys.kind, { event: 'started', ...rotation });
      const inUse = (await kekUsage(db)).map((usage) => usage.keyId);
      const previousKeyIds = [...new Set([rotation.replacedKeyId, ...inUse])].filter((id) => id !== rotation.keyId);
      Context.current().log.info('KEK rotation started', {
        provider: keys.kind,
        targetKeyId: rotation.keyId,
        previousKeyIds,
      });
      return { provider: keys.kind, targetKeyId: rotation.keyId, previousKeyIds: previousKeyIds.sort() };
    },

    /** One committed, verified batch of re-wrapped DEKs; `remaining` DEKs are still under other KEKs. */
    async rewrapDataKeys(input: {
      rotationId: string;
      targetKeyId: string;
    }): Promise<{ rewrapped: number; remaining: number }> {
      return finalOnKeyFailure(() => rewrapBatch(db, keys, input));
    },

    /** Every live DEK is under the target KEK, or the count of those that are not. */
    async verifyKekRotation(input: {
      rotationId: string;
      targetKeyId: string;
    }): Promise<{ underTarget: number; elsewhere: number }> {
      const usage = await kekUsage(db);
      const underTarget = usage.find((u) => u.keyId === input.targetKeyId)?.secrets ?? 0;
      const elsewhere = usage.filter((u) => u.keyId !== input.targetKeyId).reduce((sum, u) => sum + u.secrets, 0);
      if (elsewhere === 0) {
        await recordRotationEvent(db, input.rotationId, keys.kind, {
          event: 'verified',
          keyId: input.targetKeyId,
          secrets: underTarget,
        });
      }
      return { underTarget, elsewhere };
    },

    /** Takes an old KEK out of use; refused while any DEK is still wrapped by it. */
    async retireKek(input: { rotationId: string; keyId: string }): Promise<KeyRetirement> {
      const stillUsed = (await kekUsage(db)).find((u) => u.keyId === input.keyId);
      if (stillUsed) {
        throw ApplicationFailure.create({
          type: 'KekStillInUse',
          message: `key-encryption key ${input.keyId} still wraps ${stillUsed.secrets} data keys`,
        });
      }
      const outcome = await finalOnKeyFailure(() => keys.retireKey(input.keyId));
      await recordRotationEvent(db, input.rotationId, keys.kind, { event: 'key-retired', keyId: input.keyId, outcome });
      return outcome;
    },

    async completeKekRotation(input: { rotationId: string; targetKeyId: string }): Promise<void> {
      await recordRotationEvent(db, input.rotationId, keys.kind, { event: 'completed', keyId: input.targetKeyId });
    },
  };
}

export type KeyRotationActivities = ReturnType<typeof createKeyRotationActivities>;
