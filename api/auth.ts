/**
 * Bearer-token authentication and role-based authorisation (T17, T23).
 *
 * Tokens are JWTs verified with `jose`: HS256 with a shared secret (JWT_SECRET; in development and
 * tests without one, a secret generated once into `<dataDir>/jwt-secret`), or RS256/ES256 against a
 * remote JWKS (JWT_JWKS_URL) in production. Issuer and audience are always checked. A token names
 * exactly one workspace; it is never valid for another.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { DEFAULT_JWT_MAX_LIFETIME_MS, type Config } from '../lib/config';

export const ROLES = ['admin', 'member', 'service'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs. `manage`: connect, reconnect, restrict scopes, customer controls, disconnect,
 * delete workspace. `operate`: sync now, rotate. `read`: every other read. `review`: the admins'
 * reads of who consented to what and what was purged (the consent ledger, purge receipts).
 */
export type Permission = 'manage' | 'operate' | 'read' | 'review';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['manage', 'operate', 'read', 'review'],
  service: ['operate', 'read'],
  member: ['read'],
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

export interface Caller {
  /** Opaque subject id (JWT `sub`): never a name or e-mail. */
  sub: string;
  workspaceId: string;
  role: Role;
}

export class AuthenticationError extends Error {
  constructor(readonly reason: 'missing' | 'malformed' | 'invalid' | 'expired' | 'claims') {
    super(`authentication failed: ${reason}`);
    this.name = 'AuthenticationError';
  }
}

export interface Authenticator {
  authenticate(authorizationHeader: string | undefined): Promise<Caller>;
}

const ALGORITHMS_JWKS = ['RS256', 'ES256'];
/** Tolerated clock difference between the token issuer and us. */
const CLOCK_TOLERANCE_S = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Subjects are opaque ids; a bound keeps audit rows and rate-limit keys small. */
const MAX_SUBJECT_LENGTH = 200;

type KeyInput = Parameters<typeof jwtVerify>[1];

/**
 * Verified tokens are remembered (keyed by the token's SHA-256, so the cache holds no bearer
 * credential) until their `exp`, and at most this long, so a key withdrawn from the JWKS stops
 * working within a minute. Services send the same token on every call; verifying it each time
 * costs a WebCrypto job on libuv's thread pool per request, the largest CPU share of a cheap
 * route (bench:api). The same token string always verifies the same way while its key is live.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Bounds memory: at ~200 bytes an entry, 10,000 entries is ~2 MB; the oldest is dropped first. */
const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

export function createAuthenticator(options: {
  issuer: string;
  audience: string;
  hsSecret?: Uint8Array;
  jwksUrl?: string;
  /** Longest accepted `exp - iat` (ms); default DEFAULT_JWT_MAX_LIFETIME_MS. */
  maxLifetimeMs?: number;
  /** Clock (ms), injectable for tests of expiry. */
  now?: () => number;
}): Authenticator {
  const now = options.now ?? Date.now;
  const maxLifetimeS = (options.maxLifetimeMs ?? DEFAULT_JWT_MAX_LIFETIME_MS) / 1000;
  const verified = new Map<string, { caller: Caller; validUntil: number }>();
  let key: KeyInput;
  let algorithms: string[];
  if (options.jwksUrl) {
    key = createRemoteJWKSet(new URL(options.jwksUrl));
    algorithms = ALGORITHMS_JWKS;
  } else if (options.hsSecret) {
    key = options.hsSecret;
    algorithms = ['HS256'];
  } else {
    throw new Error('no JWT verification key: set JWT_SECRET or JWT_JWKS_URL');
  }

  return {
    async authenticate(header) {
      if (!header) throw new AuthenticationError('missing');
      const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
      if (!match) throw new AuthenticationError('malformed');
      const cacheKey = crypto.createHash('sha256').update(match[1]!).digest('base64url');
      const known = verified.get(cacheKey);
      if (known && known.validUntil > now()) return known.caller;
      verified.delete(cacheKey);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(match[1]!, key, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['sub', 'exp', 'iat'],
          currentDate: new Date(now()),
        }));
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw new AuthenticationError(code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid');
      }
      // A token minted to live for weeks stays dangerous long after it leaks: refuse it whatever its exp.
      if (payload.exp! - payload.iat! > maxLifetimeS) throw new AuthenticationError('claims');
      const {
        sub,
        workspace_id: workspaceId,
        role,
      } = payload as JWTPayload & { workspace_id?: unknown; role?: unknown };
      if (
        typeof sub !== 'string' ||
        sub.length === 0 ||
        sub.length > MAX_SUBJECT_LENGTH ||
        typeof workspaceId !== 'string' ||
        !UUID.test(workspaceId) ||
        typeof role !== 'string' ||
        !(ROLES as readonly string[]).includes(role)
      ) {
        throw new AuthenticationError('claims');
      }
      const caller: Caller = { sub, workspaceId: workspaceId.toLowerCase(), role: role as Role };
      if (verified.size >= VERIFIED_TOKEN_CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(cacheKey, { caller, validUntil: Math.min(payload.exp! * 1000, now() + VERIFIED_TOKEN_TTL_MS) });
      return caller;
    },
  };
}

/**
 * The HS256 secret: JWT_SECRET, else (development and test only) a random secret generated once
 * into `<dataDir>/jwt-secret` with owner-only permissions. Production never reaches the fallback:
 * config validation requires JWT_SECRET or JWT_JWKS_URL there.
 */
export function resolveHsSecret(config: Pick<Config, 'env' | 'dataDir' | 'auth'>): Uint8Array | undefined {
  if (config.auth.jwtSecret) return new TextEncoder().encode(config.auth.jwtSecret);
  if (config.auth.jwksUrl || config.env === 'production') return undefined;
  const file = path.join(config.dataDir, 'jwt-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return new TextEncoder().encode(fs.readFileSync(file, 'utf8').trim());
}

export function authenticatorFromConfig(config: Pick<Config, 'env' | 'dataDir' | 'auth'>): Authenticator {
  return createAuthenticator({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    jwksUrl: config.auth.jwksUrl,
    maxLifetimeMs: config.auth.maxLifetimeMs,
    hsSecret: config.auth.jwksUrl ? undefined : resolveHsSecret(config),
  });
}

/** Mints an HS256 token (dev tooling and tests; production tokens come from the identity provider). */
export async function mintToken(input: {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  sub: string;
  workspaceId: string;
  role: Role;
  /** jose time span, e.g. '1h', or epoch seconds. */
  expiresIn?: string | number;
}): Promise<string> {
  return new SignJWT({ workspace_id: input.workspaceId, role: input.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.sub)
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setIssuedAt()
    .setExpirationTime(input.expiresIn ?? '1h')
    .sign(input.secret);
}
