/**
 * The consent session (T2): binds an OAuth `state` to the browser of the user who started the
 * consent. The API hands the vendor's authorize URL only to that user, together with a cookie
 * holding HMAC-SHA-256(key, state hash ‖ initiator); the callback completes only in a browser that
 * presents it. Someone else who learns the authorize URL (or the state) cannot forge the cookie,
 * so they cannot connect the integration to a vendor account of their choosing.
 */
import crypto from 'node:crypto';
import type { AuditActor } from '../audit';

/** HMAC key for consent-session cookies, derived from server key material under its own label. */
export function deriveConsentSessionKey(material: Buffer): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', material, Buffer.alloc(0), 'trackproject-oauth-consent/v1', 32));
}

/** One cookie per integration, so two consents in flight in one browser do not overwrite each other. */
export function consentCookieName(integrationId: string): string {
  return `tp_consent_${integrationId.toLowerCase().replace(/-/g, '')}`;
}

/** Sent only to the OAuth callback (under the API's public path), never to the rest of the API. */
function consentCookiePath(publicUrl: string): string {
  return `${new URL(publicUrl).pathname.replace(/\/+$/, '')}/v1/oauth/callback`;
}

export function consentSessionValue(key: Buffer, stateHash: Buffer, initiator: AuditActor): string {
  return crypto
    .createHmac('sha256', key)
    .update(stateHash)
    .update(`\0${initiator.type}\0${initiator.id}`, 'utf8')
    .digest('base64url');
}

/** Constant-time check of a presented cookie value against the state's initiator. */
export function isConsentSession(
  key: Buffer,
  stateHash: Buffer,
  initiator: AuditActor,
  presented: string | undefined,
): boolean {
  if (!presented) return false;
  const expected = Buffer.from(consentSessionValue(key, stateHash, initiator));
  const given = Buffer.from(presented);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/**
 * The Set-Cookie header: HttpOnly (no script reads it), SameSite=Lax (the vendor's redirect back
 * is a cross-site top-level GET, which Strict would strip; Lax still withholds it from cross-site
 * subrequests and POSTs), Secure whenever the API is served over https (`publicUrl`), and no
 * longer than the state lives.
 */
export function consentSetCookie(
  integrationId: string,
  value: string,
  options: { publicUrl: string; maxAgeS: number },
): string {
  return [
    `${consentCookieName(integrationId)}=${value}`,
    `Path=${consentCookiePath(options.publicUrl)}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeS))}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(options.publicUrl.startsWith('https:') ? ['Secure'] : []),
  ].join('; ');
}

/** The value of one cookie in a `Cookie` request header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
