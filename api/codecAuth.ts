/**
 * Who may decode payloads through the codec endpoint (`api/routes/codec.ts`).
 *
 * Production: the bearer token the Temporal UI forwards ("pass access token": the UI's OIDC access
 * token from the organisation's IdP) or the one the CLI sends (`--codec-auth`), verified against
 * the IdP's JWKS with issuer and audience; the operator is whoever carries the configured claim
 * value (e.g. `groups` containing `temporal-operators`).
 *
 * Development: the dev server's UI calls the endpoint from the browser with no token. With
 * `TEMPORAL_CODEC_LOCAL_DEV` (refused by config in production and off loopback), a call without a
 * token decodes as the local developer only if it comes from this machine (loopback client address
 * and Host) and, from a browser, from the local UI's origin (so no other web page, nor a DNS-rebound
 * name, can use it). A call that carries a token is always judged by the token.
 */
import type { FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { LOOPBACK_HOSTS, type CodecAuthConfig } from '../lib/config';

export interface CodecCaller {
  /** Opaque subject id (the IdP's `sub`, or `local-developer`): audited, never a name or e-mail. */
  subject: string;
  method: 'oidc' | 'local-dev';
}

/** `operator`: may decode. `not-operator`: a valid identity without the operator claim (403). `anonymous`: 401. */
export type CodecDecision =
  { kind: 'operator'; caller: CodecCaller } | { kind: 'not-operator'; caller: CodecCaller } | { kind: 'anonymous' };

export type CodecAuthorizer = (request: FastifyRequest) => Promise<CodecDecision>;

export const LOCAL_DEVELOPER = 'local-developer';
const ALGORITHMS = ['RS256', 'ES256', 'PS256'];
const CLOCK_TOLERANCE_S = 30;
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

const isLoopbackAddress = (address: string) =>
  address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

const hostName = (host: string | undefined): string | undefined => {
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
};

/** The claim holds the operator value: a string equal to it, or an array containing it (IdP groups). */
function hasOperatorClaim(payload: JWTPayload, claim: string, value: string): boolean {
  const held = payload[claim];
  return held === value || (Array.isArray(held) && held.includes(value));
}

export function createCodecAuthorizer(options: CodecAuthConfig & { uiUrl: string }): CodecAuthorizer {
  const uiOrigin = new URL(options.uiUrl).origin;
  const oidc = options.oidc;
  const keys = oidc ? createRemoteJWKSet(new URL(oidc.jwksUrl)) : undefined;

  const fromThisMachine = (request: FastifyRequest) => {
    const origin = request.headers.origin;
    return (
      isLoopbackAddress(request.socket.remoteAddress ?? '') &&
      LOOPBACK_HOSTS.includes(hostName(request.headers.host) ?? '') &&
      (origin === undefined || origin === uiOrigin)
    );
  };

  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) {
      return options.localDev && fromThisMachine(request)
        ? { kind: 'operator', caller: { subject: LOCAL_DEVELOPER, method: 'local-dev' } }
        : { kind: 'anonymous' };
    }
    const token = BEARER.exec(header)?.[1];
    if (!token || !oidc || !keys) return { kind: 'anonymous' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch {
      return { kind: 'anonymous' };
    }
    const caller: CodecCaller = { subject: payload.sub!, method: 'oidc' };
    return hasOperatorClaim(payload, oidc.operatorClaim, oidc.operatorValue)
      ? { kind: 'operator', caller }
      : { kind: 'not-operator', caller };
  };
}
