/**
 * Every boundary-crossing request is authenticated, authorised, rate-limited and audited (T23,
 * T10). Routes declare `config.access = { action, permission }`; these hooks enforce it before the
 * body is even parsed and record the outcome in the workspace audit log before the response leaves.
 *
 * Order: authenticate → rate limit (per subject and workspace, or per client address without a valid
 * token, so a flood of forged tokens is throttled too) → 401 → workspace binding (403) → role (403).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditActor, AuditOutcome } from '../lib/audit';
import { AuthenticationError, roleAllows, type Caller, type Permission } from './auth';
import { HttpProblem, problemTitle } from './problem';
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
  const caller = request.caller;
  if (!caller) throw new HttpProblem(401, 'A valid bearer token is required');
  return actorOf(caller);
}

function actorOf(caller: Caller): AuditActor {
  return { type: caller.role === 'service' ? 'service' : 'user', id: caller.sub };
}

export function registerGuard(
  app: Api,
  services: Pick<ApiServices, 'auth' | 'audit' | 'rateLimits' | 'rateLimitStore'>,
): void {
  const limiter = createRateLimiter(services.rateLimits, {
    ...(services.rateLimitStore ? { store: services.rateLimitStore } : {}),
    onStoreError: (error) =>
      app.log.warn({ err: error }, 'shared rate limits unreachable: each instance applies its own until they are back'),
  });
  app.addHook('onClose', async () => limiter.close());
  app.decorateRequest('caller', undefined);
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
            workspaceId: target.workspaceId,
            actor: facts.actor ?? (request.caller ? actorOf(request.caller) : { type: 'user', id: 'anonymous' }),
            direction: 'inbound',
            action: `api.${access.action}`,
            scope: access.permission,
            outcome: outcomeOf(status),
            ...(status >= 400 ? { errorClass: facts.errorClass ?? problemTitle(status).replace(/\s+/g, '') } : {}),
            requestId: request.id,
            ...(target.integrationId ? { integrationId: target.integrationId } : {}),
            ...(facts.vendor ? { vendor: facts.vendor } : {}),
            ...(target.workflowId ? { workflowId: target.workflowId } : {}),
          }),
        );
      } catch (error) {
        // Never turn a served request into a different answer after the fact; the failure is loud in logs.
        request.log.error({ err: error, action: access.action }, 'audit write failed');
      }
    }
    return payload;
  });
}
