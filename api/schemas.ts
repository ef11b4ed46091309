/**
 * TypeBox schemas shared by several routes: the single source for request validation, response
 * serialisation and `/openapi.json`. Bounds on every string and array keep hostile input cheap.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });

export const WorkspaceParams = Type.Object({ workspaceId: Uuid });
export const IntegrationParams = Type.Object({ workspaceId: Uuid, integrationId: Uuid });

/** Vendor ids of the matrix: lowercase words and dashes. */
export const VendorIdSchema = Type.String({ pattern: '^[a-z0-9-]{1,40}$' });

/** OAuth scopes and permission names as vendors spell them (`Files.Read`, `read:jira-work`, URLs). */
export const ScopeSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' });
/** The largest matrix row lists well under this many scopes. */
export const ScopeList = Type.Array(ScopeSchema, { maxItems: 50, uniqueItems: true });

/** Customer controls (T18): control kind → selected ids, e.g. `{ "repos": ["org/repo"] }`. */
export const ControlsSchema = Type.Record(
  Type.String({ pattern: '^[a-z-]{1,40}$' }),
  Type.Array(Type.String({ minLength: 1, maxLength: 400 }), { maxItems: 500, uniqueItems: true }),
);

export const RunLinks = Type.Object({ temporalUi: Type.String() });

export const RunAccepted = Type.Object({
  integrationId: Type.Optional(Uuid),
  workflowId: Type.String(),
  status: Type.String(),
  links: RunLinks,
});

/**
 * preValidation for routes whose body is optional: Fastify validates an absent body against the
 * schema, so "no body" becomes the empty object the schema allows.
 */
export async function absentBodyIsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}
