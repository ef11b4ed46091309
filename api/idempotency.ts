/**
 * `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header) for the API's creating
 * requests (connect, data-out actions): a retry with the same key from the same caller answers for
 * the first attempt instead of doing the work twice. The key names the run (its id is derived from
 * caller, workspace and key); the request's fingerprint rides in the run's memo, so the same key
 * with a different request is refused (422) rather than silently answered.
 */
import crypto from 'node:crypto';
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { Type } from 'typebox';
import { HttpProblem } from './problem';
import type { TemporalAccess } from './services';

/** Visible ASCII, at most 255 characters. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
});

/** The id a keyed request gets: the same kind, caller, workspace and key always give the same id (RFC 9562 v8 UUID). */
export function keyedId(kind: string, workspaceId: string, subject: string, key: string): string {
  const bytes = crypto
    .createHash('sha256')
    .update(JSON.stringify([kind, workspaceId, subject, key]))
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** SHA-256 of a canonical JSON form (object keys sorted at every level): equal requests, equal prints. */
export function requestFingerprint(request: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
      );
    return value;
  };
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}

/** Start options for a keyed run: join it while it runs, never start it again once closed, remember the request. */
export function keyedStart(fingerprint: string): {
  ifRunning: 'join';
  ifClosed: 'conflict';
  memo: { requestFingerprint: string };
} {
  return { ifRunning: 'join', ifClosed: 'conflict', memo: { requestFingerprint: fingerprint } };
}

/** The run a keyed request already started, if any; 422 when the key came with another request. */
export async function keyedRun(
  temporal: TemporalAccess,
  workflowId: string,
  fingerprint: string,
): Promise<WorkflowExecutionDescription | undefined> {
  let description: WorkflowExecutionDescription;
  try {
    description = await temporal.client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  if (description.memo?.requestFingerprint !== fingerprint) {
    throw new HttpProblem(422, 'This Idempotency-Key was already used with a different request', {
      errorClass: 'IdempotencyKeyReused',
      errors: [{ pointer: '/headers/idempotency-key', detail: 'use a new key for a different request' }],
    });
  }
  return description;
}
