/**
 * The APS clients of one call: the official `@aps_sdk/*` modules where they cover an endpoint
 * (authentication, Data Management, Issues) and the shared REST client (`ApsRest`) for the rest
 * (Webhooks, RFIs, Tandem), all against one base address (`APS_API_URL`; the emulator in tests).
 *
 * The SDK manager is built fresh for each client on purpose: its resilience policy retries 429s
 * after a few milliseconds, ignoring Retry-After, and trips a circuit breaker shared by every call
 * of the manager (one integration's revoked grant would stop every other's). Here retries are off
 * (the workflows wait out 429s on durable timers, under the shared budget), a breaker only ever sees
 * its own one request, and the SDK's logger is silenced: it logs response bodies.
 */
import { AuthenticationClient } from '@aps_sdk/authentication';
import {
  ApsConfiguration,
  ResiliencyConfiguration,
  SdkManagerBuilder,
  type ILogger,
  type SdkManager,
} from '@aps_sdk/autodesk-sdkmanager';
import { IssuesClient } from '@aps_sdk/construction-issues';
import { DataManagementClient } from '@aps_sdk/data-management';
import { createRestClient, type RestClient } from '../shared/restClient';

const NO_RETRIES = 0;
const BACKOFF_MS = 10;
const BREAKER_HALF_OPEN_MS = 60_000;
const TIMEOUT_MS = 15_000;

const silent: ILogger = { logInfo() {}, logDebug() {}, logWarn() {}, logError() {}, setEnabled() {} };

function sdkManager(baseUrl: string): SdkManager {
  const configuration = new ApsConfiguration({});
  // The SDK concatenates `${baseAddress}${path}`: a URL object ends in '/', which would make every
  // path start with '//'. The origin as a string without the slash keeps the paths exact.
  configuration.BaseAddress = new URL(baseUrl).origin as unknown as URL;
  return SdkManagerBuilder.create()
    .addApsConfiguration(configuration)
    .addResiliencyConfiguration(new ResiliencyConfiguration(NO_RETRIES, BACKOFF_MS, BREAKER_HALF_OPEN_MS, TIMEOUT_MS))
    .addLogger(silent)
    .build();
}

export const authenticationClient = (baseUrl: string) => new AuthenticationClient({ sdkManager: sdkManager(baseUrl) });
export const dataManagementClient = (baseUrl: string) => new DataManagementClient({ sdkManager: sdkManager(baseUrl) });
export const issuesClient = (baseUrl: string) => new IssuesClient({ sdkManager: sdkManager(baseUrl) });

/** The REST client for endpoints no SDK module covers: the bearer token, typed failures (`RestError`). */
export type ApsRest = RestClient;

export function createApsRest(baseUrl: string, accessToken: string): ApsRest {
  return createRestClient({
    // The same origin the SDK modules call (see `sdkManager`).
    baseUrl: new URL(baseUrl).origin,
    authorization: `Bearer ${accessToken}`,
    timeoutMs: TIMEOUT_MS,
    // APS's fixed host, not a customer's: its redirects are followed.
    redirect: 'follow',
    // Some writes answer 200 with an empty or plain body.
    lenientAnswers: true,
  });
}

/** Data Management project ids carry the `b.` prefix; the ACC product APIs (Issues, RFIs) take the bare id. */
export const productProjectId = (projectId: string) => projectId.replace(/^b\./, '');
