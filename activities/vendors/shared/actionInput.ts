/**
 * Input checks for connectors' data-out actions (`Connector.perform`): a missing or mistyped field
 * is a non-retryable VendorRejected naming the field, never echoing its value.
 */
import { VendorError, VendorFailureType } from '../errors';

export function invalidActionInput(vendor: string, field: string): VendorError {
  return new VendorError(VendorFailureType.VendorRejected, vendor, `invalid input: ${field}`);
}

export function requireString(vendor: string, input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) throw invalidActionInput(vendor, field);
  return value;
}

export function optionalString(vendor: string, input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidActionInput(vendor, field);
  return value;
}
