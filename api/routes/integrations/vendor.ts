/** The vendor a request names, from the services' catalog: the one place the integration routes resolve vendors. */
import type { VendorDescriptor, VendorId } from '../../../activities/vendors/types';
import { HttpProblem } from '../../problem';
import type { ApiServices } from '../../services';
import { vendorUnavailable } from '../vendors';

/** The vendor's descriptor; an unknown vendor, or one planned or not configured here, is 422 at `pointer`. */
export function descriptorOf(services: ApiServices, vendor: string, pointer: string): VendorDescriptor {
  const row = services.vendors.get(vendor as VendorId);
  if (!row) {
    throw new HttpProblem(422, `Unknown vendor "${vendor}"`, {
      errors: [{ pointer, detail: `one of ${[...services.vendors.keys()].join(', ')}` }],
    });
  }
  if (row.availability !== 'available') throw vendorUnavailable(row, pointer);
  return row.descriptor;
}
