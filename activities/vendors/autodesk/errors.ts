/**
 * APS error mapping before `classifyHttpStatus`. The `@aps_sdk/*` clients reject with an
 * `<Module>ApiError` holding the axios error (`axiosError.response`: status, headers); the shared REST
 * client rejects with `RestError`. A request that got no response (network, the SDK's timeout)
 * is VendorUnavailable. A 429's wait is its Retry-After. Messages never copy a response body: the
 * SDK's own messages embed it, and APS echoes input values in its errors.
 */
import { VendorError, VendorFailureType, classifyHttpStatus } from '../errors';
import { RestError } from '../shared/restClient';

export const VENDOR = 'autodesk';

interface Answer {
  status: number;
  header(name: string): string | null;
}

function answerOf(error: unknown): Answer | undefined {
  if (error instanceof RestError) return { status: error.status, header: (name) => error.headers.get(name) };
  const response = (error as { axiosError?: { response?: { status?: unknown; headers?: Record<string, unknown> } } })
    ?.axiosError?.response;
  if (typeof response?.status !== 'number') return undefined;
  const headers = response.headers ?? {};
  return {
    status: response.status,
    header: (name) => (typeof headers[name] === 'string' ? (headers[name] as string) : null),
  };
}

export function mapApsError(error: unknown, now = Date.now()): unknown {
  const answer = answerOf(error);
  if (!answer) {
    const name = (error as { name?: unknown } | null)?.name;
    const sdkFailure = typeof (error as { axiosError?: unknown } | null)?.axiosError === 'object';
    if (
      error instanceof TypeError ||
      sdkFailure ||
      name === 'TaskCancelledError' ||
      name === 'BrokenCircuitError' ||
      name === 'TimeoutError'
    )
      return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'no response');
    return error;
  }
  return classifyHttpStatus(VENDOR, answer.status, 'request failed', answer.header('retry-after'), now);
}

/** Token endpoint refusals: `invalid_grant` (a used, revoked or expired refresh token, a bad code or verifier) needs a new consent. */
export function mapTokenError(error: unknown, now = Date.now()): unknown {
  const data = (error as { axiosError?: { response?: { status?: number; data?: { error?: unknown } } } })?.axiosError
    ?.response;
  if (data?.status === 400 && data.data?.error === 'invalid_grant')
    return new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'token endpoint: invalid_grant');
  return mapApsError(error, now);
}
