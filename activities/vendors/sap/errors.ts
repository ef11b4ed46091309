/**
 * SAP error mapping before `classifyHttpStatus`. The Cloud SDK rejects with an `ErrorWithCause` whose
 * cause chain holds the Axios error with the response; a request that got no response at all is
 * VendorUnavailable. A 403 names the communication scenario the resource needs (the admin adds it to
 * the communication arrangement). Messages never copy the SDK's (they carry the URL) nor the body.
 */
import { VendorError, VendorFailureType, classifyHttpStatus, missingPermission } from '../errors';

const VENDOR = 'sap';
/** How deep to look for the HTTP error inside the SDK's wrappers. */
const MAX_CAUSE_DEPTH = 6;

interface AxiosLike {
  isAxiosError: true;
  response?: { status: number; headers?: Record<string, unknown> };
}

function isAxiosLike(value: unknown): value is AxiosLike {
  return typeof value === 'object' && value !== null && (value as { isAxiosError?: unknown }).isAxiosError === true;
}

function axiosCause(error: unknown): AxiosLike | undefined {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current; depth++) {
    if (isAxiosLike(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const header = (headers: Record<string, unknown> | undefined, name: string) => {
  const value = headers?.[name];
  return typeof value === 'string' ? value : undefined;
};

/** `permission`: what the called service needs, in the words the customer's admin configures it. */
export function mapSapError(error: unknown, permission?: string): unknown {
  if (error instanceof VendorError) return error;
  const axios = axiosCause(error);
  if (!axios) return error;
  const response = axios.response;
  if (!response) return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'no response (network)');
  const { status, headers } = response;
  if (status === 401)
    return new VendorError(
      VendorFailureType.ReauthorizationRequired,
      VENDOR,
      'credential rejected (401): the communication user or its password is wrong, locked or expired',
      { status },
    );
  if (status === 403 && permission)
    return missingPermission(VENDOR, permission, {
      status,
      message: `forbidden (403): the communication user lacks the ${permission}`,
    });
  return classifyHttpStatus(VENDOR, status, 'request failed', header(headers, 'retry-after'));
}
