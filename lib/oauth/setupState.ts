/**
 * Signed `state` of an app-installation step (a GitHub App's `installations/new?state=…`, handed
 * back to our Setup URL). It names the workspace, the integration and the connect run it was issued
 * for, and when it expires; the HMAC makes it trustworthy. The API reads the payload only to find
 * the run; the run's activity verifies the signature and the binding before it accepts anything.
 */
import crypto from 'node:crypto';

export interface SetupBinding {
  workspaceId: string;
  integrationId: string;
  /** The connect run (Temporal run id): a state of an earlier run is refused. */
  runId: string;
  /** Epoch ms. */
  expiresAt: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function mac(key: Buffer, payload: string): string {
  return crypto.createHmac('sha256', key).update(`setup-state.v1.${payload}`).digest('base64url');
}

export function signSetupState(key: Buffer, binding: SetupBinding): string {
  const payload = Buffer.from(
    JSON.stringify({ w: binding.workspaceId, i: binding.integrationId, r: binding.runId, e: binding.expiresAt }),
  ).toString('base64url');
  return `${payload}.${mac(key, payload)}`;
}

/** The payload, unverified: enough to route the request to its run, never to trust it. */
export function readSetupState(state: string): SetupBinding | undefined {
  const match = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!match) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const { w, i, r, e } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof w !== 'string' || typeof i !== 'string' || typeof r !== 'string' || typeof e !== 'number')
    return undefined;
  if (!UUID.test(w) || !UUID.test(i) || r.length === 0 || r.length > 100) return undefined;
  return { workspaceId: w.toLowerCase(), integrationId: i.toLowerCase(), runId: r, expiresAt: e };
}

/** The binding when the signature is ours and the state has not expired; undefined otherwise. */
export function verifySetupState(key: Buffer, state: string, nowMs: number): SetupBinding | undefined {
  const binding = readSetupState(state);
  if (!binding) return undefined;
  const [payload, signature] = state.split('.') as [string, string];
  const expected = Buffer.from(mac(key, payload));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
  return binding.expiresAt > nowMs ? binding : undefined;
}
