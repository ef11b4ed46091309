/**
 * Graph SDK and MSAL errors mapped to the shared failure types before `classifyHttpStatus`;
 * messages carry codes, never payloads.
 */
import { AuthError, ServerError } from '@azure/msal-node';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { VendorError, VendorFailureType, classifyHttpStatus, type RefusalFailureType } from '../errors';

/** `oauthFailure`: what `invalid_grant` means here (a bad code at exchange, a dead refresh token at refresh). */
export function mapMicrosoftError(
  vendor: string,
  error: unknown,
  oauthFailure: RefusalFailureType = VendorFailureType.ReauthorizationRequired,
): unknown {
  if (error instanceof VendorError) return error;
  if (error instanceof GraphError) {
    if (error.statusCode <= 0) return new VendorError(VendorFailureType.VendorUnavailable, vendor, 'network failure');
    return classifyHttpStatus(vendor, error.statusCode, error.code ?? 'graph error', error.headers?.get('retry-after'));
  }
  if (error instanceof ServerError) {
    const type =
      error.errorCode === 'invalid_grant'
        ? oauthFailure
        : error.errorCode === 'invalid_client'
          ? VendorFailureType.VendorRejected
          : VendorFailureType.VendorUnavailable;
    return new VendorError(type, vendor, `identity platform: ${error.errorCode}`);
  }
  if (error instanceof AuthError)
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, `identity platform: ${error.errorCode}`);
  return error;
}
