/**
 * PKCE (RFC 7636, S256 only: `plain` defeats the point, T5) and OAuth `state` values.
 * Verifier: 32 random bytes → 43 base64url chars (the RFC's minimum length, maximum entropy/char).
 */
import crypto from 'node:crypto';
import { CANONICAL_UUID } from '../uuid';

export function createPkcePair(): { verifier: string; challenge: string; method: 'S256' } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier), method: 'S256' };
}

export function s256(verifier: string): string {
  return crypto.createHash('sha256').update(verifier).digest('base64url');
}

/** `state` binds the callback to a workspace and integration, plus 32 random bytes against CSRF/guessing. */
export function createOAuthState(workspaceId: string, integrationId: string): string {
  return `${workspaceId}.${integrationId}.${crypto.randomBytes(32).toString('base64url')}`;
}

/** What `createOAuthState` issues: two canonical UUIDs and 43 base64url characters (the API's schema uses it too). */
export const OAUTH_STATE_PATTERN = `^(${CANONICAL_UUID})\\.(${CANONICAL_UUID})\\.[A-Za-z0-9_-]{43}$`;
const OAUTH_STATE = new RegExp(OAUTH_STATE_PATTERN);

export function parseOAuthState(state: string): { workspaceId: string; integrationId: string } | undefined {
  const match = OAUTH_STATE.exec(state);
  return match ? { workspaceId: match[1]!, integrationId: match[2]! } : undefined;
}

/** What oauth_states stores: the hash, never the state itself. */
export function hashState(state: string): Buffer {
  return crypto.createHash('sha256').update(state).digest();
}
