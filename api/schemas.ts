/**
 * TypeBox schemas shared by several routes: the single source for request validation, response
 * serialisation and `/openapi.json`. Bounds on every string and array keep hostile input cheap.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { canonicalUuid, UUID_ANY_CASE } from '../lib/uuid';

/** RFC 9562 text form only (`format: uuid` also admits `urn:uuid:…`, which Postgres refuses); paths are lower-cased on arrival. */
export const Uuid = Type.String({ pattern: `^${UUID_ANY_CASE}$`, minLength: 36, maxLength: 36 });

export const WorkspaceParams = Type.Object({ workspaceId: Uuid });
export const IntegrationParams = Type.Object({ workspaceId: Uuid, integrationId: Uuid });

/** Vendor ids of the matrix: lowercase words and dashes. */
export const VendorIdSchema = Type.String({ pattern: '^[a-z0-9-]{1,40}$' });

/**
 * OAuth scopes and permission names as vendors spell them (`Files.Read`, `read:jira-work`, URLs), or
 * a permission the matrix names in words (Procore's): single inner spaces allowed.
 */
export const ScopeSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+( [\\x21-\\x7e]+)*$' });
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
 * onRequest, before everything else: UUID path parameters in their canonical lower case, so the
 * same workspace or integration spelled in upper case gets the same ids, run ids, idempotency
 * keys and search attributes, and every later step can compare ids as strings.
 */
export async function canonicalUuidParams(request: FastifyRequest): Promise<void> {
  const params = request.params as Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(params ?? {}))
    if (typeof value === 'string') params![name] = canonicalUuid(value);
}

/**
 * preValidation for routes whose body is optional: Fastify validates an absent body against the
 * schema, so "no body" becomes the empty object the schema allows.
 */
export async function absentBodyIsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}
