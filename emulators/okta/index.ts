/**
 * The Okta emulator: one customer org (its URL is the emulator's) with its org authorization server
 * (OIDC, `./oidc`), its SAML 2.0 app (`./saml`) and its event hooks (`./eventHooks`). Every endpoint
 * answers 429 with Okta's `X-Rate-Limit-*` headers during a rate storm.
 * `startOktaEmulator()` → `{ url, clientId, requests, control, stop() }`.
 */
import { createEmulatorClock } from '../shared/clock';
import { EmulatorRouter, startEmulatorServer, type LoggedRequest } from '../shared/http';
import { createRateStorm } from '../shared/rateStorm';
import { deliverEventHook, eventHookBody, verifyEventHook, type EventHook } from './eventHooks';
import { OktaAuthorizationServer, oktaError, type OktaIdTokenForgery, type OktaUser } from './oidc';

export interface OktaEmulatorOptions {
  clientId?: string;
  redirectUris?: string[];
  user?: OktaUser;
}

export interface OktaEmulator {
  /** The org URL (`https://<org>.okta.com` in production). */
  url: string;
  /** The OIDC app integration registered in the org for us (public client). */
  clientId: string;
  user: OktaUser;
  requests: LoggedRequest[];
  control: ReturnType<typeof createControl>;
  stop(): Promise<void>;
}

export const DEFAULT_OKTA_USER: OktaUser = {
  id: '00u1a2b3c4d5e6f7g8h9',
  login: 'dana.foreman@customer.example',
  name: 'Dana Foreman',
  groups: ['Everyone', 'Site Managers – North'],
};

export async function startOktaEmulator(options: OktaEmulatorOptions = {}): Promise<OktaEmulator> {
  let url = '';
  const clock = createEmulatorClock();
  const user = options.user ?? DEFAULT_OKTA_USER;
  const clientId = options.clientId ?? '0oa1trackproject0x7';
  const oidc = await OktaAuthorizationServer.create({ orgUrl: () => url, user, clock });
  const redirectUris = [...(options.redirectUris ?? [])];
  oidc.registerPublicClient(clientId, redirectUris);
  const storm = createRateStorm();
  const router = new EmulatorRouter();
  oidc.register(router);
  const server = await startEmulatorServer({ router, before: () => storm.intercept() });
  url = server.url;
  return {
    url,
    clientId,
    user,
    requests: server.requests,
    control: createControl({ url, clientId, redirectUris, oidc, storm, clock }),
    stop: () => server.stop(),
  };
}

function createControl(org: {
  url: string;
  clientId: string;
  redirectUris: string[];
  oidc: OktaAuthorizationServer;
  storm: ReturnType<typeof createRateStorm>;
  clock: ReturnType<typeof createEmulatorClock>;
}) {
  return {
    /** Another redirect URI on the org's OIDC app (the admin's app settings). */
    addRedirectUri: (redirectUri: string) => {
      org.redirectUris.push(redirectUri);
      org.oidc.registerPublicClient(org.clientId, org.redirectUris);
    },
    grantExtraScopesOnNextConsent: (scopes: string[]) => org.oidc.grantExtraScopesOnNextConsent(scopes),
    forgeNextIdToken: (forgery: OktaIdTokenForgery) => org.oidc.forgeNextIdToken(forgery),
    /** Whether an access token still works at the org (revoked or expired: no). */
    accessTokenActive: (token: string) => org.oidc.grantOf(token) !== undefined,
    /** The next `count` requests answer 429; the window resets `resetInSeconds` from now (`X-Rate-Limit-Reset`). */
    startRateLimitStorm: (count: number, resetInSeconds: number) =>
      org.storm.start(count, {
        ...oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.'),
        headers: {
          'x-rate-limit-limit': '600',
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(Math.floor(org.clock.now() / 1000) + resetInSeconds),
        },
      }),
    verifyEventHook: (hook: EventHook) => verifyEventHook(hook),
    /** Delivers an event hook; pass a body from `eventHookBody` again to replay a delivery. */
    deliverEventHook: (hook: EventHook, rawBody: string) => deliverEventHook(hook, rawBody),
    eventHookBody: (eventTypes: string[], eventId?: string) => eventHookBody(org.url, eventTypes, eventId),
    advanceClock: (ms: number) => org.clock.advance(ms),
    now: () => org.clock.now(),
  };
}
