/**
 * The Microsoft emulator: identity platform + Graph v1.0 on one HTTPS origin with a test CA.
 * `startMicrosoftEmulator()` → `{ url, caCert, tenantId, clientId, clientSecret, requests, httpsFront(), stop(), control }`.
 */
import tls from 'node:tls';
import { Agent } from 'undici';
import { createEmulatorClock } from '../shared/clock';
import { EmulatorRouter, startEmulatorServer, type LoggedRequest } from '../shared/http';
import { startHttpsFront, type HttpsFront } from '../shared/httpsFront';
import { createRateStorm } from '../shared/rateStorm';
import { mountSamlApp, type SamlAssertionOptions, type SamlServiceProvider } from '../shared/samlIdp';
import { GraphService, graphError, type LifecycleEvent } from './graph';
import { IdentityPlatform, type EmulatedUser, type IdTokenForgery } from './identity';
import { createTestTls } from './tls';

export interface MicrosoftEmulatorOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  user?: EmulatedUser;
  /** The enterprise application set up for our SAML sign-in: our entity id (audience) and ACS URL. */
  saml?: SamlServiceProvider;
}

/** Entra ID's SAML endpoints per tenant: federation metadata and the SAML-P sign-on URL. */
const FEDERATION_METADATA = 'federationmetadata/2007-06/federationmetadata.xml';

export interface MicrosoftEmulator {
  url: string;
  caCert: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The tenant's federation metadata URL (SAML). */
  samlMetadataUrl: string;
  /** Every request the SDKs sent, in order. */
  requests: LoggedRequest[];
  control: ReturnType<typeof createControl>;
  /**
   * An https front, with this emulator's certificate, for an http origin (the API at
   * `http://localhost:…`): Graph delivers change notifications to https only, and trusts this
   * certificate as it would a public one. Stopped with the emulator.
   */
  httpsFront(target: string): Promise<HttpsFront>;
  stop(): Promise<void>;
}

export async function startMicrosoftEmulator(options: MicrosoftEmulatorOptions = {}): Promise<MicrosoftEmulator> {
  const tenantId = options.tenantId ?? '9188040d-6c67-4c5b-b112-36a304b66dad';
  const client = {
    clientId: options.clientId ?? '4d4c3f0e-0d3c-4c8f-9a57-1c1b2f0e0a11',
    clientSecret: options.clientSecret ?? 'emulator-client-secret',
  };
  const user = options.user ?? {
    id: '00000000-0000-0000-0000-0000000000a1',
    displayName: 'Ada Site-Manager',
    mail: 'ada@contoso.example',
    groups: ['group-site-managers'],
  };
  let url = '';
  const clock = createEmulatorClock();
  const identity = await IdentityPlatform.create({ baseUrl: () => url, tenantId, client, user, clock });
  const testTls = await createTestTls();
  const deliveries = new Agent({ connect: { ca: [...tls.rootCertificates, testTls.caCert] } });
  const graph = new GraphService(() => url, identity, clock, deliveries);
  const storm = createRateStorm();
  const router = new EmulatorRouter();
  identity.register(router);
  graph.register(router);
  const saml = mountSamlApp(
    { metadata: `/:tenant/${FEDERATION_METADATA}`, sso: '/:tenant/saml2' },
    { status: 404, body: { error: 'invalid_tenant' } },
  );
  saml.register(router);
  const server = await startEmulatorServer({
    router,
    tls: { key: testTls.key, cert: testTls.cert },
    // Throttling applies to Graph, not to the identity platform.
    before: (request) => (request.path.startsWith('/v1.0/') ? storm.intercept() : undefined),
  });
  url = server.url;
  if (options.saml)
    await saml.start({
      entityId: `https://sts.windows.net/${tenantId}/`,
      ssoUrl: `${url}/${tenantId}/saml2`,
      sp: options.saml,
      // Entra's default NameID is the user principal name; groups are sent as object ids.
      user: { subject: user.mail, groups: user.groups },
    });
  const fronts: HttpsFront[] = [];
  return {
    url,
    caCert: testTls.caCert,
    tenantId,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    samlMetadataUrl: `${url}/${tenantId}/${FEDERATION_METADATA}`,
    requests: server.requests,
    control: createControl(graph, identity, clock, storm, saml),
    async httpsFront(target) {
      const front = await startHttpsFront({ target, key: testTls.key, cert: testTls.cert });
      fronts.push(front);
      return front;
    },
    async stop() {
      await Promise.all([server.stop(), ...fronts.map((front) => front.stop())]);
      await deliveries.close();
    },
  };
}

function createControl(
  graph: GraphService,
  identity: IdentityPlatform,
  clock: ReturnType<typeof createEmulatorClock>,
  storm: ReturnType<typeof createRateStorm>,
  saml: ReturnType<typeof mountSamlApp>,
) {
  return {
    graph,
    /** A Response of the tenant's enterprise application for the signed-in user, with the departures a test asks for. */
    samlResponse: (departures: Partial<SamlAssertionOptions>) => saml.samlResponse(departures),
    seedSite: (siteId: string, displayName: string) => graph.seedSite(siteId, displayName),
    seedChannel: (teamId: string, channelId: string, displayName: string) =>
      graph.seedChannel(teamId, channelId, displayName),
    /** Collections: `me/drive/root`, `me/drive/special/approot`, `sites/{id}/drive/root`, `me/events`. */
    upsertItem: (collection: string, data: Record<string, unknown> & { id?: string }) =>
      graph.upsertItem(collection, data),
    deleteItem: (collection: string, id: string) => graph.deleteItem(collection, id),
    items: (collection: string) =>
      [...graph.collection(collection).items.values()].filter((item) => !item.deleted).map((item) => item.data),
    setDeltaPageSize: (size: number) => {
      graph.deltaPageSize = size;
    },
    expireDeltaTokens: () => graph.deltaTokens.expireAll(),
    /** The next `count` Graph requests answer 429 with this Retry-After. */
    startThrottleStorm: (count: number, retryAfterSeconds: number) =>
      storm.start(count, {
        ...graphError(429, 'TooManyRequests', 'Too many requests.'),
        headers: { 'retry-after': String(retryAfterSeconds) },
      }),
    sendLifecycleNotification: (subscriptionId: string, event: LifecycleEvent) =>
      graph.sendLifecycleNotification(subscriptionId, event),
    grantExtraScopesOnNextConsent: (scopes: string[]) => identity.grantExtraScopesOnNextConsent(scopes),
    /** The next ID token comes from another tenant, names another tenant as issuer, is for another app, or is signed with a key not in the JWKS. */
    forgeNextIdToken: (forgery: IdTokenForgery) => identity.forgeNextIdToken(forgery),
    issueAccessToken: (scopes: string[]) => identity.issueAccessToken(scopes),
    advanceClock: (ms: number) => clock.advance(ms),
    now: () => clock.now(),
    openIdConfiguration: (tenant?: string) => identity.openIdConfiguration(tenant),
  };
}
