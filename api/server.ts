/**
 * The thin API: builds the Fastify app from injected dependencies (tests pass their own). Route
 * schemas (TypeBox) are the single source for validation and for the OpenAPI document.
 */
import crypto from 'node:crypto';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Api } from './types';
import type { Logger } from '../lib/logger';
import { registerProblemHandlers } from './problem';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health';

export interface ApiDeps {
  logger: Logger;
  readiness: ReadinessCheck[];
}

/** Request ids: accept a caller's (bounded, safe charset) or mint one; echoed on every response. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export async function buildServer(deps: ApiDeps): Promise<Api> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandlers(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'TrackProject Integrations API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerHealthRoutes(app, deps.readiness);
  return app;
}
