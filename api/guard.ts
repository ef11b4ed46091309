/**
 * Every boundary-crossing request is authenticated, authorised, rate-limited and audited (T23,
 * T10). Routes declare `config.access = { action, permission }`; these hooks enforce it before the
 * body is even parsed and record the outcome in the workspace audit log before the response leaves.
 *
 * The audit fails closed: a request whose entry cannot be written is answered 503 instead. Routes
 * that change something (`manage`, `operate`) first record that the caller was authorised, before
 * the handler acts, so a store that is down stops the effect rather than hiding it.
 *
 * Order: authenticate → rate limit (per subject and workspace, or per client address without a valid
 * token, so a flood of forged tokens is throttled too) → 401 → workspace binding (403) → role (403).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditSubjectId } from '../db/audit';
import type { AuditActor, AuditEntry, AuditOutcome } from '../lib/audit';
import { AuthenticationError, roleAllows, type Caller, type Permission } from './auth';
import { HttpProblem, problemBody, problemTitle } from './problem';
import { createRateLimiter } from './rateLimit';
import type { ApiServices } from './services';
import type { Api } from './types';

export interface RouteAccess {
  /** Audit action, e.g. `integration.connect`. */
  action: string;
  /** `public`: no bearer token; the route authenticates the call itself (OAuth state, webhook signature). */
  permission: Permission | 'public';
}

/** Facts a handler learns while serving (ids it resolved), merged into the audit entry. */
export interface AuditFacts {
  workspaceId?: string;
  integrationId?: string;
  vendor?: string;
  workflowId?: string;
  actor?: AuditActor;
  errorClass?: string;
  /**
   * A call that served several workspaces at once (an app-level webhook routed to every workspace
   * that connected the installation): audited once in each of them.
   */
  alsoFor?: Array<{ workspaceId: string; integrationId: string; workflowId: string }>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    caller?: Caller;
    /** The caller as the audit log and workflows name it (its subject, or a keyed hash of it). */
    actor?: AuditActor;
    auditFacts: AuditFacts;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function pathWorkspace(request: FastifyRequest): string | undefined {
  const value = (request.params as Record<string, unknown> | undefined)?.workspaceId;
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
}

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  return status === 401 || status === 403 ? 'denied' : 'failure';
}

/** The authenticated caller as an audit/workflow actor. Only on routes with a bearer permission (the guard ran). */
export function callerActor(request: FastifyRequest): AuditActor {
  if (!request.actor) throw new HttpProblem(401, 'A valid bearer token is required');
  return request.actor;
}

/** Says nothing about the cause: the store's error may quote the entry. */
const AUDIT_UNAVAILABLE = 'The request could not be recorded in the audit log, so it was not served; retry later';

/** Name and code only: a database error's message and detail can quote the entry's values. */
function auditFailure(error: unknown): { errorClass: string; code?: string } {
  const { name, code } = error as { name?: string; code?: string };
  return { errorClass: name ?? 'Error', ...(typeof code === 'string' ? { code } : {}) };
}

export function registerGuard(
  app: Api,
  services: Pick<ApiServices, 'auth' | 'audit' | 'auditSubjectKey' | 'rateLimits' | 'rateLimitStore'>,
): void {
  const actorOf = (caller: Caller): AuditActor => ({
    type: caller.role === 'service' ? 'service' : 'user',
    id: auditSubjectId(caller.sub, services.auditSubjectKey),
  });
  /** Requests whose authorisation was recorded before their handler acted. */
  const recordedBeforeEffect = new WeakSet<FastifyRequest>();
  const inboundEntry = (request: FastifyRequest, access: RouteAccess, workspaceId: string) =>
    ({
      workspaceId,
      actor: request.auditFacts.actor ?? request.actor ?? { type: 'user', id: 'anonymous' },
      direction: 'inbound',
      action: `api.${access.action}`,
      scope: access.permission,
      requestId: request.id,
    }) satisfies Partial<AuditEntry>;

  const limiter = createRateLimiter(services.rateLimits, {
    ...(services.rateLimitStore ? { store: services.rateLimitStore } : {}),
    onStoreError: (error) =>
      app.log.warn({ err: error }, 'shared rate limits unreachable: each instance applies its own until they are back'),
  });
  app.addHook('onClose', async () => limiter.close());
  app.decorateRequest('caller', undefined);
  app.decorateRequest('actor', undefined);
  // Set per request in onRequest (Fastify forbids a shared object as a decorator default).
  app.decorateRequest('auditFacts', null as unknown as AuditFacts);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const access = request.routeOptions.config.access;
    // Public routes learn their workspace only once they authenticated the call (state row, endpoint row):
    // an unauthenticated prober must not be able to write into any workspace's audit log.
    request.auditFacts = { workspaceId: access && access.permission !== 'public' ? pathWorkspace(request) : undefined };
    if (!access) return;

    let authError: AuthenticationError | undefined;
    if (access.permission !== 'public') {
      try {
        request.caller = await request.timing.measure('auth', () =>
          services.auth.authenticate(request.headers.authorization),
        );
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        authError = error;
      }
    }
    const retryAfter = request.caller
      ? await limiter.checkCaller(request.caller.sub, request.caller.workspaceId)
      : limiter.checkAnonymous(request.ip);
    if (retryAfter > 0) {
      throw new HttpProblem(429, 'Rate limit exceeded; retry later', {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    if (access.permission === 'public') return;
    if (request.caller) request.actor = actorOf(request.caller);
    if (authError || !request.caller) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpProblem(
        401,
        authError?.reason === 'expired' ? 'The bearer token has expired' : 'A valid bearer token is required',
      );
    }
    const workspaceId = request.auditFacts.workspaceId;
    const claimed = (request.params as Record<string, unknown> | undefined)?.workspaceId;
    if (claimed !== undefined && workspaceId !== request.caller.workspaceId) {
      throw new HttpProblem(403, 'The token is not valid for this workspace');
    }
    if (!roleAllows(request.caller.role, access.permission)) {
      throw new HttpProblem(403, `Role "${request.caller.role}" may not ${access.action}`);
    }
  });

  // After validation, before the handler: a change is audited before it happens, or does not happen.
  app.addHook('preHandler', async (request: FastifyRequest) => {
    const access = request.routeOptions.config.access;
    const workspaceId = request.auditFacts?.workspaceId;
    if (!access || (access.permission !== 'manage' && access.permission !== 'operate') || !workspaceId) return;
    try {
      await request.timing.measure('audit', () =>
        services.audit.record({
          ...inboundEntry(request, access, workspaceId),
          action: `api.${access.action}.authorized`,
          outcome: 'success',
        }),
      );
    } catch (error) {
      request.log.error({ ...auditFailure(error), action: access.action }, 'audit write failed before the handler');
      throw new HttpProblem(503, AUDIT_UNAVAILABLE, { errorClass: 'AuditUnavailable' });
    }
    recordedBeforeEffect.add(request);
  });

  // onSend, not onResponse: the audit row exists before the caller sees the answer.
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const access = request.routeOptions.config.access;
    const facts = request.auditFacts;
    if (!access || !facts) return payload;
    const targets = [
      ...(facts.workspaceId
        ? [{ workspaceId: facts.workspaceId, integrationId: facts.integrationId, workflowId: facts.workflowId }]
        : []),
      ...(facts.alsoFor ?? []),
    ];
    const status = reply.statusCode;
    for (const target of targets) {
      try {
        await request.timing.measure('audit', () =>
          services.audit.record({
            ...inboundEntry(request, access, target.workspaceId),
            outcome: outcomeOf(status),
            ...(status >= 400 ? { errorClass: facts.errorClass ?? problemTitle(status).replace(/\s+/g, '') } : {}),
            ...(target.integrationId ? { integrationId: target.integrationId } : {}),
            ...(facts.vendor ? { vendor: facts.vendor } : {}),
            ...(target.workflowId ? { workflowId: target.workflowId } : {}),
          }),
        );
      } catch (error) {
        request.log.error({ ...auditFailure(error), action: access.action }, 'audit write failed');
        // A change already recorded as authorised keeps its answer: hiding what happened would invite a duplicate.
        if (recordedBeforeEffect.has(request)) continue;
        reply.status(503).type('application/problem+json');
        return JSON.stringify(problemBody(request, { status: 503, detail: AUDIT_UNAVAILABLE }));
      }
    }
    return payload;
  });
}
