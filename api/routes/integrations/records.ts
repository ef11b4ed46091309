/**
 * The admins' records (T2, T15): an integration's consent ledger (who consented to, narrowed or
 * revoked which scopes and controls, and when) and the workspace's purge receipts. Admin-only
 * (`review`), paginated newest first, RLS-bound, audited like every read; actors are opaque ids.
 */
import { Type } from 'typebox';
import { BIGINT_CURSOR, listConsentEvents, listPurgeReceipts, PURGE_RECEIPT_CURSOR } from '../../../db/ledgers';
import { problemResponses } from '../../problem';
import { ControlsSchema, IntegrationParams, Uuid, WorkspaceParams } from '../../schemas';
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { iso, loadIntegration } from './shared';

const PAGE_DEFAULT = 50;
const PAGE_MAX = 200;

// Query strings are not type-coerced (the API validates strictly), so the page size is a digit string.
const Limit = Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: `page size, 1-${PAGE_MAX}` });
const pageSize = (limit: string | undefined) => Math.min(PAGE_MAX, limit ? Number(limit) : PAGE_DEFAULT);
const NextCursor = Type.Union([Type.String(), Type.Null()]);

const ConsentEntry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  /** Who consented (or narrowed, revoked…): an opaque subject id, as the audit log names callers. */
  actor: Type.Object({ type: Type.String(), id: Type.String() }),
  action: Type.String({ description: 'granted, narrowed, revoked, reauthorized or controls_changed' }),
  scopes: Type.Array(Type.String()),
  controls: ControlsSchema,
});

const PurgeReceipt = Type.Object({
  receiptId: Uuid,
  integrationId: Uuid,
  vendor: Type.String(),
  disconnectedAt: Type.Optional(Type.String()),
  purgedAt: Type.String(),
  /** What the purge deleted, per kind of data. */
  counts: Type.Record(Type.String(), Type.Integer()),
});

export function registerRecordRoutes(app: Api, services: ApiServices): void {
  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/consents',
    {
      schema: {
        tags: ['integrations'],
        summary:
          "The integration's consent ledger, newest first: who consented to which scopes and controls, and when (T2)",
        params: IntegrationParams,
        querystring: Type.Object(
          {
            cursor: Type.Optional(
              Type.String({ pattern: BIGINT_CURSOR.source, description: 'nextCursor of the previous page' }),
            ),
            limit: Type.Optional(Limit),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ consents: Type.Array(ConsentEntry), nextCursor: NextCursor }),
          ...problemResponses(404),
        },
      },
      config: { access: { action: 'integration.consents', permission: 'review' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      await loadIntegration(services, request, request.params);
      const { rows, nextCursor } = await listConsentEvents(services.db, workspaceId, integrationId, {
        cursor: request.query.cursor,
        limit: pageSize(request.query.limit),
      });
      return {
        consents: rows.map((row) => ({
          id: String(row.id),
          at: row.created_at.toISOString(),
          actor: { type: row.actor_type, id: row.actor_id },
          action: row.action,
          scopes: row.scopes,
          controls: row.controls,
        })),
        nextCursor,
      };
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/purge-receipts',
    {
      schema: {
        tags: ['integrations'],
        summary:
          "The workspace's purge receipts, newest first: what the final purge of each disconnected integration deleted (T15)",
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            integrationId: Type.Optional(Uuid),
            cursor: Type.Optional(
              Type.String({ pattern: PURGE_RECEIPT_CURSOR.source, description: 'nextCursor of the previous page' }),
            ),
            limit: Type.Optional(Limit),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ receipts: Type.Array(PurgeReceipt), nextCursor: NextCursor }),
          ...problemResponses(),
        },
      },
      config: { access: { action: 'purge-receipt.list', permission: 'review' } },
    },
    async (request) => {
      const { integrationId, cursor, limit } = request.query;
      if (integrationId) request.auditFacts.integrationId = integrationId;
      const { rows, nextCursor } = await listPurgeReceipts(services.db, request.params.workspaceId, {
        limit: pageSize(limit),
        ...(cursor ? { cursor } : {}),
        ...(integrationId ? { integrationId: integrationId.toLowerCase() } : {}),
      });
      return {
        receipts: rows.map((row) => ({
          receiptId: row.receipt_id,
          integrationId: row.integration_id,
          vendor: row.vendor,
          disconnectedAt: iso(row.disconnected_at),
          purgedAt: row.purged_at.toISOString(),
          counts: row.counts,
        })),
        nextCursor,
      };
    },
  );
}
