/**
 * A span per API request (T25), the root of its trace: the route handler runs in its context, so
 * the Temporal client call it makes (and through it the workflow, its activities and their vendor
 * calls) joins the same trace. A caller's `traceparent` is not continued: callers are outside the
 * trust boundary (vendors among them) and do not pick our trace ids. Attributes: method, route
 * template (never the URL, whose query may carry OAuth codes), status, and the workspace and
 * integration ids of the path.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions';
import type { FastifyRequest } from 'fastify';
import { SpanAttr, tracer } from '../lib/tracing';
import { CANONICAL_UUID } from '../lib/uuid';
import type { Api } from './types';

const ID = new RegExp(`^${CANONICAL_UUID}$`);

export function registerRequestTracing(app: Api): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}) },
      },
      ROOT_CONTEXT,
    );
    spans.set(request, span);
  });
  // Hooks registered here apply to the routes registered after: every route of the API.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function tracedHandler(request, reply) {
      const span = spans.get(request);
      if (!span) return handler.call(this, request, reply);
      return context.with(trace.setSpan(context.active(), span), () => handler.call(this, request, reply));
    };
  });
  const end = async (request: FastifyRequest, status?: number) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    span.setAttributes(pathIds(request.params));
    if (status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status === undefined || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request) => end(request));
}

/** The path's workspace and integration ids, when they are ids (a refused request's path may hold anything). */
function pathIds(params: unknown): Record<string, string> {
  const { workspaceId, integrationId } = (params ?? {}) as Record<string, unknown>;
  return {
    ...(typeof workspaceId === 'string' && ID.test(workspaceId) ? { [SpanAttr.workspaceId]: workspaceId } : {}),
    ...(typeof integrationId === 'string' && ID.test(integrationId) ? { [SpanAttr.integrationId]: integrationId } : {}),
  };
}
