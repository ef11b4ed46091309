/**
 * Oracle ERP Cloud connector: the shared REST client (no npm SDK exists) against the customer's pod,
 * as the service account the admin submitted (`baseUrl`, `username`, `password`, read with
 * `basicServiceAccount`). Reads purchase orders and suppliers by scheduled sync; finds deletions by
 * id sweep (`listSourceIds`: Oracle keeps no tombstones we can read); writes nothing (T19): every
 * action is refused on the audited path before any request. No OAuth: the authorize and token
 * steps refuse, and disconnect has nothing to revoke at Oracle (the customer removes the account).
 */
import { NO_SCOPE } from '../../../lib/scopes';
import { VendorError, VendorFailureType, missingPermission } from '../errors';
import { mapRestError } from '../shared/restClient';
import {
  createServiceAccountCall,
  serviceAccountPollingSteps,
  type ServiceAccountConnectorOptions,
} from '../shared/serviceAccountRest';
import type { Connector, ConnectorContext } from '../types';
import { MAX_PAGE_SIZE, RESOURCES, oracleErpApi, type CollectionPage, type OracleErpApi } from './client';
import { ORACLE_ERP_READ, ORACLE_ERP_SYNC_RESOURCES, oracleErpDescriptor, type OracleErpResource } from './descriptor';
import { fetchErpPage, type Row } from './sync';

/** `hosts`: where a submitted pod URL may point (`ORACLE_ERP_HOSTS`). */
export interface OracleErpConnectorOptions extends ServiceAccountConnectorOptions {
  /** Rows a page (Oracle's maximum, 500, unless a test pages smaller). */
  pageSize?: number;
}

const VENDOR = 'oracle-erp';

function outside(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, reason);
}

/** Our own timeout is a cut-off like Oracle's 504 (the sync narrows the window); the rest as every REST vendor. */
function mapOracleErpError(error: unknown, now: number): unknown {
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'query cut off (timed out)', { status: 504 });
  return mapRestError(VENDOR, error, now);
}

/** Oracle's 403 names no role: the resource says which duty role the service account lacks. */
function missingRole(resource: OracleErpResource): VendorError {
  const { dutyRole } = RESOURCES[resource];
  return missingPermission(VENDOR, dutyRole, {
    message: `the service account lacks the "${dutyRole}" role (403 on ${resource})`,
  });
}

export function createOracleErpConnector(options: OracleErpConnectorOptions): Connector {
  const now = options.now ?? Date.now;
  const pageSize = Math.min(options.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  const call = createServiceAccountCall({
    ...options,
    family: VENDOR,
    rateLimit: oracleErpDescriptor.rateLimit,
    mapError: mapOracleErpError,
  });

  function syncResource(resource: string): OracleErpResource {
    if (!(ORACLE_ERP_SYNC_RESOURCES as readonly string[]).includes(resource))
      throw outside(`resource ${resource} is not in the matrix's data in`);
    return resource as OracleErpResource;
  }

  /** One audited, budgeted list call; a 403 names the missing duty role. */
  function lister(ctx: ConnectorContext, resource: OracleErpResource, action: string) {
    const audited = { action, scope: ORACLE_ERP_READ };
    return (page: Parameters<OracleErpApi['list']>[1]): Promise<CollectionPage<Row>> =>
      call(
        ctx,
        audited,
        (rest) => oracleErpApi(rest).list<Row>(resource, page),
        () => missingRole(resource),
      );
  }

  return {
    vendors: ['oracle-erp'],
    ...serviceAccountPollingSteps(oracleErpDescriptor),

    // One row of each resource: proves the account signs in (401 otherwise) and holds both duty roles.
    async testConnection(ctx) {
      for (const resource of ORACLE_ERP_SYNC_RESOURCES)
        await lister(
          ctx,
          resource,
          `${resource}.probe`,
        )({
          offset: 0,
          limit: 1,
        });
    },

    async fetchPage(ctx, input) {
      const resource = syncResource(input.resource);
      return fetchErpPage({
        list: lister(ctx, resource, `${resource}.list`),
        resource,
        cursorText: input.cursor,
        pageSize,
        now: now(),
      });
    },

    // Every id the pod holds, ordered by id, fields limited to the id: what the sweep compares.
    async listSourceIds(ctx, input) {
      const resource = syncResource(input.resource);
      const offset = input.cursor ? Number(input.cursor) : 0;
      if (!Number.isSafeInteger(offset) || offset < 0) throw outside('invalid id sweep cursor');
      const { idField } = RESOURCES[resource];
      const page = await lister(
        ctx,
        resource,
        `${resource}.ids`,
      )({
        offset,
        limit: pageSize,
        fields: [idField],
        orderBy: `${idField}:asc`,
      });
      const rows = Array.isArray(page.items) ? page.items : [];
      const ids = rows.map((row) => row[idField]).filter((id) => typeof id === 'number' || typeof id === 'string');
      return {
        ids: ids.map(String),
        nextCursor: page.hasMore && rows.length > 0 ? String(offset + rows.length) : null,
      };
    },

    // T19: Oracle ERP Cloud's row has no data out: refused and audited before any request or budget.
    async perform(ctx, action) {
      return ctx.audit({ action, scope: NO_SCOPE }, () =>
        Promise.reject(outside(`${action} is not in Oracle ERP Cloud's data out (none)`)),
      );
    },
  } satisfies Connector;
}
