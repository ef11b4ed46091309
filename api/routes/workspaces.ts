/**
 * Workspace-level routes: deletion (T16: integration metadata removed with the workspace) and the
 * workspace audit log (T10, T24), paginated and filtered.
 */
import { Type } from 'typebox';
import { listAudit } from '../../db/audit';
import { BIGINT_CURSOR } from '../../db/ledgers';
import { workflowIds, type DeleteWorkspaceInput } from '../../workflows/definitions';
import { MAX_PURGE_DELAY_MS } from '../../lib/config';
import { callerActor } from '../guard';
import { problemResponses } from '../problem';
import { runLinks, startRun } from '../runs';
import { RunAccepted, Uuid, WorkspaceParams } from '../schemas';
import type { ApiServices } from '../services';
import type { Api } from '../types';

/** Audit pages: big enough for a screen, small enough to stay a cheap indexed range scan. */
const AUDIT_PAGE_DEFAULT = 50;
const AUDIT_PAGE_MAX = 200;

/**
 * RFC 3339 as `Date` parses it: `format: date-time` alone admits a leap second (`23:59:60`), a
 * lower-case `t`/`z` and a space, which do not parse.
 */
const Timestamp = Type.String({
  format: 'date-time',
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$',
  maxLength: 40,
});

const AuditQuerySchema = Type.Object(
  {
    cursor: Type.Optional(
      Type.String({ pattern: BIGINT_CURSOR.source, description: 'nextCursor of the previous page' }),
    ),
    // Query strings are not type-coerced (the API validates strictly), so the page size is a digit string.
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: `page size, 1-${AUDIT_PAGE_MAX}` })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9._:-]+$' })),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
    direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')])),
    integrationId: Type.Optional(Uuid),
    actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    vendor: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,40}$' })),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const AuditEntrySchema = Type.Object({
  seq: Type.String(),
  createdAt: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.String() }),
  direction: Type.String(),
  vendor: Nullable(Type.String()),
  integrationId: Nullable(Type.String()),
  action: Type.String(),
  scope: Nullable(Type.String()),
  outcome: Type.String(),
  errorClass: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  workflowId: Nullable(Type.String()),
  /** Hash-chain link (T24): lets a reader verify nothing was altered or removed. */
  hash: Type.String(),
});

export function registerWorkspaceRoutes(app: Api, services: ApiServices): void {
  app.delete(
    '/v1/workspaces/:workspaceId',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Delete the workspace: disconnects every integration and removes integration metadata (T16)',
        params: WorkspaceParams,
        response: { 202: RunAccepted, ...problemResponses(409) },
      },
      config: { access: { action: 'workspace.delete', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId } = request.params;
      const workflowId = workflowIds.workspaceDelete(workspaceId);
      request.auditFacts.workflowId = workflowId;
      const input: DeleteWorkspaceInput = {
        workspaceId,
        actor: callerActor(request),
        purgeDelayMs: Math.min(services.purgeDelayMs, MAX_PURGE_DELAY_MS),
      };
      await startRun(services.temporal, {
        workflowType: 'deleteWorkspaceWorkflow',
        workflowId,
        args: [input],
        process: 'workspace-delete',
        workspaceId,
        ifRunning: 'join',
      });
      return reply.status(202).send({ workflowId, status: 'deleting', links: runLinks(services.temporal, workflowId) });
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The workspace audit log, newest first, with cursor pagination and filters',
        params: WorkspaceParams,
        querystring: AuditQuerySchema,
        response: {
          200: Type.Object({
            entries: Type.Array(AuditEntrySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...problemResponses(),
        },
      },
      config: { access: { action: 'audit.list', permission: 'read' } },
    },
    async (request) => {
      const { cursor, limit, since, until, ...filters } = request.query;
      return listAudit(services.db, request.params.workspaceId, {
        cursor,
        limit: Math.min(AUDIT_PAGE_MAX, limit ? Number(limit) : AUDIT_PAGE_DEFAULT),
        filters: { ...filters, ...(since ? { from: new Date(since) } : {}), ...(until ? { to: new Date(until) } : {}) },
      });
    },
  );
}
