/**
 * Vendor registry: which connector serves which vendor, and each vendor's descriptor (the matrix
 * row). The generic activities resolve everything through it; tests build one over their own
 * connectors. Workflows never import it (connectors pull SDKs in): they ask `describeVendor`.
 */
import { VendorError, VendorFailureType } from './errors';
import type { Connector, VendorDescriptor, VendorId } from './types';

export interface VendorRegistration {
  descriptor: VendorDescriptor;
  connector: Connector;
}

export interface ConnectorRegistry {
  descriptor(vendor: VendorId): VendorDescriptor;
  connector(vendor: VendorId): Connector;
  vendors(): VendorId[];
}

export function createConnectorRegistry(registrations: readonly VendorRegistration[]): ConnectorRegistry {
  const byVendor = new Map<VendorId, VendorRegistration>();
  for (const registration of registrations) {
    const vendor = registration.descriptor.id;
    if (byVendor.has(vendor)) throw new Error(`vendor ${vendor} registered twice`);
    if (!registration.connector.vendors.includes(vendor)) throw new Error(`connector does not serve vendor ${vendor}`);
    byVendor.set(vendor, registration);
  }
  const lookup = (vendor: VendorId): VendorRegistration => {
    const found = byVendor.get(vendor);
    // Not retryable: a vendor without a connector cannot start working on a retry.
    if (!found)
      throw new VendorError(VendorFailureType.VendorRejected, vendor, 'no connector registered for this vendor');
    return found;
  };
  return {
    descriptor: (vendor) => lookup(vendor).descriptor,
    connector: (vendor) => lookup(vendor).connector,
    vendors: () => [...byVendor.keys()],
  };
}
