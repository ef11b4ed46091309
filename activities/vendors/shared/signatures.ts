/**
 * Webhook signature primitives shared by the vendors' `webhooks.ts`: constant-time HMAC checks and
 * HS256 JWT verification. Each returns a boolean / claims so receivers answer 401 without leaking why.
 */
import crypto from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';

export function hmacSha256Hex(secret: string, rawBody: Buffer | string): string {
  return crypto.createHmac('sha256', secret).update(rawBody).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

/** Verifies an HS256 JWT (signature, `exp`, `nbf`, within `clockToleranceSeconds`); undefined when invalid. */
export async function verifyHs256Jwt(
  token: string,
  secret: string,
  options: { now?: number; clockToleranceSeconds?: number } = {},
): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
      currentDate: options.now === undefined ? undefined : new Date(options.now),
      clockTolerance: options.clockToleranceSeconds ?? 30,
    });
    return payload;
  } catch {
    return undefined;
  }
}
