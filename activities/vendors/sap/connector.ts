/**
 * SAP S/4HANA connector (OData V2 through `@sap-cloud-sdk/odata-v2`). Credential model: the admin
 * submits the tenant's API URL and a communication user (`url`, `username`, `password`), stored
 * encrypted (T6) and read here only (`readServiceAccount`). T18: the URL must be an SAP tenant host
 * this deployment allows, so the worker calls nothing else. T19: reads only; every write is refused
 * before any call. Deleted records: purchase orders flagged 'L' are deletions; records deleted with
 * no flag (archived POs, deleted deliveries) are found by the id sweep (`listSourceIds`).
 */
import crypto from 'node:crypto';
import { VendorError, VendorFailureType } from '../errors';
import {
  EMPTY_WATERMARK,
  advanceWatermark,
  createVendorCall,
  isFresh,
  queryStartMs,
  type UpdatedWatermark,
  type VendorBudgets,
} from '../shared';
import { readServiceAccount } from '../shared/serviceAccount';
import type { Connector, ConnectorContext, SourceRecord, SyncPage } from '../types';
import { readPage, type SapTenant } from './client';
import { allowedTenantUrl, type SapApp } from './config';
import { SAP_MATRIX_SCOPE, SAP_RESOURCES, sapDescriptor, type SapResource } from './descriptor';
import { mapSapError } from './errors';
import { SAP_RESOURCE_SPECS, type SapResourceSpec } from './resources';

export interface SapConnectorOptions extends SapApp {
  /** The worker's vendor budgets (shared by every worker); absent: this process's own. */
  budgets?: VendorBudgets;
}

const VENDOR = 'sap';
/** There is no app of ours at SAP: budgets are keyed by the tenant host alone. */
const APP_ID = 'communication-user';

type Json = Record<string, unknown>;

/** Round state: the filter is fixed for a round (the `$skiptoken` is bound to it). */
interface RoundCursor {
  watermark: UpdatedWatermark;
  round?: { sinceMs?: number; skiptoken?: string; seen: Array<{ id: string; updatedMs: number }> };
}

/**
 * The dedupe identity of a version: SAP's change stamps can be coarse (delivery dates carry no time),
 * so a record seen again in the overlap window counts as new only if its content changed.
 */
function versionOf(record: Json): string {
  return crypto.createHash('sha256').update(JSON.stringify(record)).digest('base64url').slice(0, 22);
}

/** The OData answer's bookkeeping (`__metadata`) is not the record. */
function recordFields(record: Json): Json {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== '__metadata'));
}

export function createSapConnector(options: SapConnectorOptions): Connector {
  const call = createVendorCall({
    family: VENDOR,
    appId: APP_ID,
    rateLimit: sapDescriptor.rateLimit,
    budgets: options.budgets,
    mapError: mapSapError,
  });

  /** The submitted credential as a destination, refused (T18) unless its URL is an allowed tenant host. */
  function tenantOf(ctx: ConnectorContext): SapTenant {
    const submitted = readServiceAccount(ctx, ['url', 'username', 'password']);
    const url = allowedTenantUrl(options, submitted.url);
    if (!url)
      throw new VendorError(
        VendorFailureType.OutsideCustomerControls,
        VENDOR,
        'the credential URL is not the API origin of an SAP tenant this deployment allows (SAP_API_DOMAINS)',
      );
    return { url: url.origin, username: submitted.username, password: submitted.password };
  }

  /** Audited, budgeted per tenant host (`countedPer: ['host']`); a refused credential is audited too. */
  function onTenant<T>(ctx: ConnectorContext, action: string, run: (tenant: SapTenant) => Promise<T>): Promise<T> {
    const audited = { action, scope: SAP_MATRIX_SCOPE };
    let tenant: SapTenant;
    try {
      tenant = tenantOf(ctx);
    } catch (error) {
      return ctx.audit(audited, () => Promise.reject(error));
    }
    const host = new URL(tenant.url).host;
    return call({ ...ctx, credential: { metadata: { host } } }, audited, () => run(tenant));
  }

  function specOf(resource: string): SapResourceSpec {
    if (!(SAP_RESOURCES as readonly string[]).includes(resource))
      throw new VendorError(
        VendorFailureType.OutsideCustomerControls,
        VENDOR,
        `resource ${resource} is not in the matrix's data in`,
      );
    return SAP_RESOURCE_SPECS[resource as SapResource];
  }

  async function fetchChanges(tenant: SapTenant, spec: SapResourceSpec, cursorText: string | null): Promise<SyncPage> {
    const cursor: RoundCursor = cursorText ? (JSON.parse(cursorText) as RoundCursor) : { watermark: EMPTY_WATERMARK };
    const round = (cursor.round ??= { sinceMs: queryStartMs(cursor.watermark, spec.overlapMs), seen: [] });
    const page = await readPage(spec.changes(round.sinceMs), tenant, round.skiptoken).catch((error: unknown) => {
      throw mapSapError(error, spec.permission);
    });
    const records: SourceRecord[] = [];
    const deletedExternalIds: string[] = [];
    const seen: Array<{ id: string; updatedMs: number }> = [];
    for (const raw of page.results) {
      const record = recordFields(raw);
      const externalId = String(record[spec.key]);
      const version = versionOf(record);
      const updatedMs = spec.changedMs(record);
      seen.push({ id: `${externalId}#${version}`, updatedMs });
      if (spec.flaggedDeleted(record)) deletedExternalIds.push(externalId);
      else if (isFresh(cursor.watermark, `${externalId}#${version}`, updatedMs))
        records.push({ resource: '', externalId, version, payload: record });
    }
    // Server order is by key, not by change: keep what can still matter to the watermark.
    const pending = [...round.seen, ...seen];
    const newest = Math.max(...pending.map((item) => item.updatedMs));
    round.seen = pending.filter((item) => item.updatedMs >= newest - spec.overlapMs);
    if (!page.skiptoken) {
      // The watermark moves only when the round ends, so a failed round re-reads.
      const next: RoundCursor = { watermark: advanceWatermark(cursor.watermark, round.seen, spec.overlapMs) };
      return { records, deletedExternalIds, nextCursor: JSON.stringify(next), roundComplete: true };
    }
    round.skiptoken = page.skiptoken;
    return { records, deletedExternalIds, nextCursor: JSON.stringify(cursor), roundComplete: false };
  }

  const notOAuth = () =>
    new VendorError(VendorFailureType.VendorRejected, VENDOR, 'SAP connects with a service-account credential');

  return {
    vendors: ['sap'],

    authorizeUrl: () => {
      throw notOAuth();
    },
    exchangeCode: async () => {
      throw notOAuth();
    },
    // A communication user's password is not a token: nothing to refresh (the customer rotates it).
    refresh: async () => {
      throw notOAuth();
    },

    // One record of each entity set: a missing authorization fails the connect naming it.
    async testConnection(ctx) {
      for (const resource of SAP_RESOURCES) {
        const spec = SAP_RESOURCE_SPECS[resource];
        await onTenant(ctx, `${resource}.read`, (tenant) => {
          const request = spec.changes(undefined);
          request.addCustomQueryParameters({ $top: '1' });
          return readPage(request, tenant).catch((error: unknown) => {
            throw mapSapError(error, spec.permission);
          });
        });
      }
    },

    revoke: async () => ({ revoked: false, note: sapDescriptor.revocation.note }),

    // The OData services send no webhooks: scheduled sync only.
    registerWebhooks: async () => [],
    renewSubscription: async (_ctx, subscription) => subscription,
    deleteSubscription: async () => undefined,

    async fetchPage(ctx, input) {
      const spec = specOf(input.resource);
      const page = await onTenant(ctx, `${input.resource}.read`, (tenant) => fetchChanges(tenant, spec, input.cursor));
      return { ...page, records: page.records.map((record) => ({ ...record, resource: input.resource })) };
    },

    // The cursor is the last key listed; the sweep ends on the first empty page.
    async listSourceIds(ctx, input) {
      const spec = specOf(input.resource);
      return onTenant(ctx, `${input.resource}.list-ids`, async (tenant) => {
        const page = await readPage(spec.ids(input.cursor ?? undefined), tenant).catch((error: unknown) => {
          throw mapSapError(error, spec.permission);
        });
        const keys = page.results.map((record) => String(record[spec.key]));
        // A flagged purchase order is deleted for us: its id does not keep a cached record alive.
        const ids = page.results
          .filter((record) => !spec.flaggedDeleted(record))
          .map((record) => String(record[spec.key]));
        return { ids, nextCursor: keys.at(-1) ?? null };
      });
    },

    // T19: the row's data out is empty: refused (and audited) before any call reaches the tenant.
    async perform(ctx, action) {
      return ctx.audit({ action, scope: SAP_MATRIX_SCOPE }, async () => {
        throw new VendorError(
          VendorFailureType.OutsideCustomerControls,
          VENDOR,
          `action ${action} is not in the matrix's data out: SAP is read-only`,
        );
      });
    },
  } satisfies Connector;
}
