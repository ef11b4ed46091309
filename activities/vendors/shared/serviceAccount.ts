/**
 * Service-account credentials (T6) as connectors read them. The API stores the admin's submitted
 * fields (`POST …/connect` `credential`) envelope-encrypted as one JSON object; the generic activity
 * decrypts it into `ctx.credential.accessToken` (see `parseCredential`), and the connector reads its
 * fields here, inside the activity only. A missing field is a typed, non-retryable refusal that names
 * the field, never its value.
 */
import { VendorError, VendorFailureType } from '../errors';
import type { ConnectorContext } from '../types';

export function readServiceAccount<const F extends string>(
  ctx: ConnectorContext,
  fields: readonly F[],
): Record<F, string> {
  let submitted: unknown;
  try {
    submitted = JSON.parse(ctx.credential.accessToken);
  } catch {
    submitted = undefined;
  }
  const record = typeof submitted === 'object' && submitted !== null ? (submitted as Record<string, unknown>) : {};
  const missing = fields.filter((field) => typeof record[field] !== 'string' || record[field] === '');
  if (missing.length > 0)
    throw new VendorError(
      VendorFailureType.VendorRejected,
      ctx.vendor,
      `service-account credential lacks ${missing.join(', ')}`,
    );
  return Object.fromEntries(fields.map((field) => [field, record[field] as string])) as Record<F, string>;
}
