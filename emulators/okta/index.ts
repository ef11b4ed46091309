/**
 * The Okta emulator: one customer org (its URL is the emulator's) with its org authorization server
 * (OIDC, `./oidc`), its SAML 2.0 app (`../shared/samlIdp`: metadata and SP-initiated SSO) and its event hooks (`./eventHooks`). Every endpoint
 * answers 429 with Okta's `X-Rate-Limit-*` headers during a rate storm.
 * `startOktaEmulator()` → `{ url, clientId, requests, control, stop() }`.
 */
import { createEmulatorClock } from '../shared/clock';
import { EmulatorRouter, startEmulatorServer, type LoggedRequest } from '../shared/http';
import { createRateStorm } from '../shared/rateStorm';
import { mountSamlApp, type SamlAssertionOptions, type SamlServiceProvider } from '../shared/samlIdp';
import { deliverEventHook, eventHookBody, verifyEventHook, type EventHook } from './eventHooks';
import { OktaAuthorizationServer, oktaError, type OktaIdTokenForgery, type OktaUser } from './oidc';

export interface OktaEmulatorOptions {
  clientId?: string;
  redirectUris?: string[];
  user?: OktaUser;
  /** The SAML app the org's admin set up for us: our entity id (audience) and ACS URL. */
  saml?: SamlServiceProvider;
}

/** Okta's SAML app ids start with `exk`; its IdP entity id is `http://www.okta.com/<app id>`. */
const SAML_APP_ID = 'exk1trackproject0x7';
const SAML_APP_PATH = `/app/trackproject/${SAML_APP_ID}/sso/saml`;

export interface OktaEmulator {
  /** The org URL (`https://<org>.okta.com` in production). */
  url: string;
  /** The OIDC app integration registered in the org for us (public client). */
  clientId: string;
  user: OktaUser;
  /** The SAML app's metadata URL (`https://<org>/app/<app id>/sso/saml/metadata`). */
  samlMetadataUrl: string;
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
  const saml = mountSamlApp(
    { metadata: `/app/${SAML_APP_ID}/sso/saml/metadata`, sso: SAML_APP_PATH },
    oktaError(404, 'E0000007', 'Not found: Resource not found'),
  );
  saml.register(router);
  const server = await startEmulatorServer({ router, before: () => storm.intercept() });
  url = server.url;
  if (options.saml)
    await saml.start({
      entityId: `http://www.okta.com/${SAML_APP_ID}`,
      ssoUrl: `${url}${SAML_APP_PATH}`,
      sp: options.saml,
      user: { subject: user.login, groups: user.groups },
    });
  return {
    url,
    clientId,
    user,
    samlMetadataUrl: `${url}/app/${SAML_APP_ID}/sso/saml/metadata`,
    requests: server.requests,
    control: createControl({ url, clientId, redirectUris, oidc, storm, clock, saml }),
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
  saml: ReturnType<typeof mountSamlApp>;
}) {
  return {
    /** A Response of the org's SAML app for the signed-in user, with the departures a test asks for. */
    samlResponse: (departures: Partial<SamlAssertionOptions>) => org.saml.samlResponse(departures),
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
