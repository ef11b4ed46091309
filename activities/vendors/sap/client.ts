/**
 * One page of an OData V2 entity set through the SAP Cloud SDK, against the customer's tenant as a
 * destination with basic authentication (the communication user). Server-driven paging: the answer's
 * `d.__next` carries a `$skiptoken`, which the next request sends with the same query.
 */
import type { GetAllRequestBuilder } from '@sap-cloud-sdk/odata-v2';
import { VendorError, VendorFailureType } from '../errors';
import type { SapDeSerializers } from './odata';

type Json = Record<string, unknown>;

/** What a page request needs of an SDK `GetAllRequestBuilder`, whatever its entity. */
export interface PageRequest {
  addCustomQueryParameters(parameters: Record<string, string>): unknown;
  executeRaw: GetAllRequestBuilder<never, SapDeSerializers>['executeRaw'];
}

export interface SapTenant {
  /** The tenant's API origin (`https://my123456-api.s4hana.cloud.sap`). */
  url: string;
  username: string;
  password: string;
}

export interface ODataPage {
  results: Json[];
  /** The `$skiptoken` of `d.__next`; undefined on the last page. */
  skiptoken?: string;
}

const malformed = () => new VendorError(VendorFailureType.VendorRejected, 'sap', 'malformed OData answer');

/** The `$skiptoken` of a `__next` link (absolute or relative). */
export function skiptokenOf(next: unknown): string | undefined {
  if (next === undefined || next === null) return undefined;
  if (typeof next !== 'string') throw malformed();
  const token = new URL(next, 'https://next.invalid').searchParams.get('$skiptoken');
  if (!token) throw malformed();
  return token;
}

export async function readPage(request: PageRequest, tenant: SapTenant, skiptoken?: string): Promise<ODataPage> {
  if (skiptoken) request.addCustomQueryParameters({ $skiptoken: skiptoken });
  const response = await request.executeRaw({
    url: tenant.url,
    username: tenant.username,
    password: tenant.password,
    authentication: 'BasicAuthentication',
  });
  const d = (response.data as { d?: { results?: unknown; __next?: unknown } } | undefined)?.d;
  if (!d || !Array.isArray(d.results)) throw malformed();
  return { results: d.results as Json[], skiptoken: skiptokenOf(d.__next) };
}
