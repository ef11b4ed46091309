/**
 * RFC 9457 problem details. Every error response of the API is `application/problem+json`, carries
 * the request id, and lists every validation problem at once. Unexpected errors become a 500
 * whose body says nothing about internals (the detail is logged, scrubbed).
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { Type } from 'typebox';
import type { Api } from './types';

export const PROBLEM_JSON = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ pointer: string; detail: string }>;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Thrown by route handlers for expected failures. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extensions: Partial<Problem> & { headers?: Record<string, string>; errorClass?: string } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

/** The OpenAPI schema of every error response; extensions are allowed (RFC 9457 §3.2). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }))),
  },
  { additionalProperties: true },
);

/** An error response as routes declare it: RFC 9457's media type, so `/openapi.json` says what the API sends. */
export const ProblemResponse = {
  description: 'RFC 9457 problem details',
  content: { [PROBLEM_JSON]: { schema: ProblemSchema } },
};

/** Error responses a route can give, keyed by status, for its `response` schema. */
export function problemResponses(...statuses: number[]): Record<number, typeof ProblemResponse> {
  return Object.fromEntries([400, 401, 403, 429, ...statuses].map((status) => [status, ProblemResponse]));
}

/**
 * onRoute: the refusals Fastify and Node give before a handler runs, declared on every route they
 * can reach, so the document lists every status a caller can get: 431 (headers too large) on all,
 * 414 (a path parameter too long) where the path has parameters, 413 and 415 (body too large,
 * media type not accepted) where a body can be sent.
 */
export function declareFrameworkProblems(route: RouteOptions): void {
  if (!route.schema || route.schema.hide) return;
  const takesBody = [route.method].flat().some((method) => method !== 'GET' && method !== 'HEAD');
  const statuses = [431, ...(route.url.includes(':') ? [414] : []), ...(takesBody ? [413, 415] : [])];
  // A copy: route modules share response maps between routes of other shapes.
  route.schema = {
    ...route.schema,
    response: {
      ...Object.fromEntries(statuses.map((status) => [status, ProblemResponse])),
      ...(route.schema.response as object),
    },
  };
}

/**
 * Node's refusals before there is a request (headers too large, malformed HTTP, timeout) as
 * problems too: Fastify's default answers them as plain JSON.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ type: problemType(status), title: problemTitle(status), status });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${problemTitle(status)}\r\nContent-Type: ${PROBLEM_JSON}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function problemTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

export function problemType(status: number): string {
  return `https://trackproject.dev/problems/${(TITLES[status] ?? 'error').toLowerCase().replace(/\s+/g, '-')}`;
}

export function problemBody(request: FastifyRequest, problem: Partial<Problem> & { status: number }): Problem {
  return {
    type: problem.type ?? problemType(problem.status),
    title: problem.title ?? TITLES[problem.status] ?? 'Error',
    ...problem,
    instance: request.url.split('?')[0],
    requestId: request.id,
  };
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: Partial<Problem> & { status: number },
): FastifyReply {
  return reply.status(problem.status).type(PROBLEM_JSON).send(problemBody(request, problem));
}

export function registerProblemHandlers(app: Api): void {
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, { status: 404, detail: `No route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.setErrorHandler((error: FastifyError | HttpProblem, request, reply) => {
    if (error instanceof HttpProblem) {
      const { headers, errorClass, ...extensions } = error.extensions;
      if (headers) reply.headers(headers);
      // A stable failure code for the audit entry (never a message).
      if (errorClass && request.auditFacts) request.auditFacts.errorClass = String(errorClass);
      return sendProblem(request, reply, { ...extensions, status: error.status, detail: error.detail });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      return sendProblem(request, reply, {
        status: 400,
        detail: 'The request does not match the API schema',
        errors: fastifyError.validation.map((issue) => ({
          pointer: `/${fastifyError.validationContext ?? 'body'}${issue.instancePath || ''}`,
          detail: issue.message ?? 'invalid',
        })),
      });
    }
    const status = fastifyError.statusCode;
    if (status && status >= 400 && status < 500) {
      // Body parser, content-type and size errors: the client's fault, never a 5xx.
      return sendProblem(request, reply, { status, detail: fastifyError.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, {
      status: 500,
      detail: 'An unexpected error occurred; quote the request id to support',
    });
  });
}
