/** The vendor a request names, from the services' catalog: the one place the integration routes resolve vendors. */
import type { VendorDescriptor, VendorId } from '../../../activities/vendors/types';
import { HttpProblem } from '../../problem';
import type { ApiServices } from '../../services';

/** The vendor's descriptor; an unknown vendor is 422 at `pointer`. */
export function descriptorOf(services: ApiServices, vendor: string, pointer: string): VendorDescriptor {
  const descriptor = services.vendors.get(vendor as VendorId);
  if (!descriptor) {
    throw new HttpProblem(422, `Unknown vendor "${vendor}"`, {
      errors: [{ pointer, detail: `one of ${[...services.vendors.keys()].join(', ')}` }],
    });
  }
  return descriptor;
}
