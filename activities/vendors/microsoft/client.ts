/**
 * The official SDK clients, pointed at injected base URLs: `@microsoft/microsoft-graph-client` for
 * Graph and `@azure/msal-node` for the identity platform. In production both use the public clouds
 * and the system CAs; tests pass the emulator's URL and its test CA, which both clients then trust
 * in addition (TLS verification stays on — the Graph SDK only attaches tokens over https anyway).
 */
import {
  ConfidentialClientApplication,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type FetchOptions,
} from '@microsoft/microsoft-graph-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseRetryAfter } from '../errors';

export const GRAPH_BASE_URL = 'https://graph.microsoft.com';
export const LOGIN_BASE_URL = 'https://login.microsoftonline.com';
/** Graph host names the SDK knows; anything else must be listed in `customHosts` to get the token. */
const GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'graph.microsoft.de',
  'microsoftgraph.chinacloudapi.cn',
  'canary.graph.microsoft.com',
]);

/**
 * Retry-After waits the SDK's RetryHandler may sit out inside the activity. Longer waits surface as
 * RateLimited so the workflow waits on a durable timer instead of holding an activity slot.
 */
export const MAX_IN_ACTIVITY_RETRY_WAIT_S = 5;
/** At most this many in-activity retries per call; beyond that the workflow decides. */
const MAX_IN_ACTIVITY_RETRIES = 2;
/** SDK default first delay (s) when a 503/504 carries no Retry-After. */
const DEFAULT_RETRY_DELAY_S = 3;

export interface MicrosoftEndpoints {
  graphBaseUrl: string;
  loginBaseUrl: string;
  /** Extra CA (PEM) to trust for both endpoints: the emulator's test CA. */
  caCert?: string;
}

/** Fetch dispatcher trusting `caCert` on top of the default roots; undefined = Node's default. */
export function createDispatcher(caCert: string | undefined): Agent | undefined {
  return caCert ? new Agent({ connect: { ca: caCert } }) : undefined;
}

export function createGraphClient(
  endpoints: MicrosoftEndpoints,
  dispatcher: Agent | undefined,
  accessToken: string,
): Client {
  const host = new URL(endpoints.graphBaseUrl).hostname;
  const retryOptions = new RetryHandlerOptions(
    DEFAULT_RETRY_DELAY_S,
    MAX_IN_ACTIVITY_RETRIES,
    (_delay, _attempt, _request, _options, response) => {
      const waitMs = parseRetryAfter(response.headers.get('retry-after'));
      return waitMs === undefined || waitMs <= MAX_IN_ACTIVITY_RETRY_WAIT_S * 1000;
    },
  );
  // The SDK's default chain, with our retry policy in place of the default one.
  const authentication = new AuthenticationHandler({ getAccessToken: async () => accessToken });
  const retry = new RetryHandler(retryOptions);
  const redirect = new RedirectHandler();
  const telemetry = new TelemetryHandler();
  const http = new HTTPMessageHandler();
  authentication.setNext(retry);
  retry.setNext(redirect);
  redirect.setNext(telemetry);
  telemetry.setNext(http);
  return Client.initWithMiddleware({
    middleware: authentication,
    baseUrl: endpoints.graphBaseUrl,
    defaultVersion: 'v1.0',
    customHosts: GRAPH_HOSTS.has(host) ? undefined : new Set([host]),
    // Node's fetch takes an undici dispatcher; FetchOptions' types predate it.
    fetchOptions: (dispatcher ? { dispatcher } : {}) as FetchOptions,
  });
}

/** A fresh MSAL client per operation: its in-memory cache then holds exactly this grant's tokens. */
export function createMsalClient(
  endpoints: MicrosoftEndpoints,
  dispatcher: Agent | undefined,
  app: { clientId: string; clientSecret: string; tenantId: string },
): ConfidentialClientApplication {
  const loginHost = new URL(endpoints.loginBaseUrl).host;
  const isPublicCloud = endpoints.loginBaseUrl === LOGIN_BASE_URL;
  return new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      authority: `${endpoints.loginBaseUrl}/${app.tenantId}`,
      // A non-public authority is trusted explicitly instead of via Microsoft's instance discovery.
      knownAuthorities: isPublicCloud ? [] : [loginHost],
    },
    system: dispatcher ? { networkClient: dispatcherNetworkModule(dispatcher) } : {},
  });
}

/** MSAL's network module on undici fetch with our dispatcher (MSAL's own client has no CA option). */
function dispatcherNetworkModule(dispatcher: Agent): INetworkModule {
  const send = async <T>(
    url: string,
    method: 'GET' | 'POST',
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const response = await undiciFetch(url, { method, headers: options?.headers, body: options?.body, dispatcher });
    const text = await response.text();
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: (text ? JSON.parse(text) : {}) as T,
    };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

/** The refresh token MSAL received, which its public API does not return. */
export function cachedRefreshToken(msal: ConfidentialClientApplication): string | undefined {
  const cache = JSON.parse(msal.getTokenCache().serialize()) as { RefreshToken?: Record<string, { secret?: string }> };
  return Object.values(cache.RefreshToken ?? {})[0]?.secret;
}
