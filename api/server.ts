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
import { registerGuard } from './guard';
import { answerClientError, declareFrameworkProblems, registerProblemHandlers, sendProblem } from './problem';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health';
import { registerActionRoutes } from './routes/actions';
import { registerIntegrationRoutes } from './routes/integrations';
import { registerInstallationSetupRoute } from './routes/installationSetup';
import { registerOAuthCallbackRoute } from './routes/oauthCallback';
import { registerSamlAcsRoute } from './routes/samlAcs';
import { registerSamlMetadataRoute } from './routes/samlMetadata';
import { registerVendorRoutes } from './routes/vendors';
import { registerWorkspaceRoutes } from './routes/workspaces';
import type { ApiServices } from './services';
import { registerWebhookReceivers } from './webhooks/receiver';
import { registerCodecRoutes, type CodecRouteOptions } from './routes/codec';
import { canonicalUuidParams } from './schemas';
import { sendServerTiming, startServerTiming } from './serverTiming';
import { createApiMetrics, registerRequestMetrics, type ApiMetrics } from './metrics';
import { registerRequestTracing } from './tracing';

export interface ApiDeps {
  logger: Logger;
  readiness: ReadinessCheck[];
  /** Absent: health, readiness and docs only (probe tests that have no data tier). */
  services?: ApiServices;
  /** The Temporal UI's remote codec (`/codec/encode|decode`) for named operators. */
  codec?: CodecRouteOptions;
  /** Proxies whose `X-Forwarded-For` names the client (`API_TRUST_PROXY`); absent: the socket's address. */
  trustProxy?: string[];
  /** Request and webhook metrics; absent: this server keeps its own (tests that do not read them). */
  metrics?: ApiMetrics;
}

/** Request ids: accept a caller's (bounded, safe charset) or mint one; echoed on every response. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Fixed texts: Fastify's own messages echo the URL, which may carry query values. */
const FRAMEWORK_ERROR_DETAILS: Record<string, string> = {
  FST_ERR_MAX_PARAM_LENGTH: 'A path parameter is too long',
  FST_ERR_BAD_URL: 'The request URL is malformed',
};

export async function buildServer(deps: ApiDeps): Promise<Api> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: deps.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
    // Router-level refusals (malformed URL, over-long path parameter) bypass hooks: answer them as problems too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      return sendProblem(request, reply, {
        status,
        detail: FRAMEWORK_ERROR_DETAILS[error.code] ?? 'The request URL is malformed',
      });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  startServerTiming(app);
  const metrics = deps.metrics ?? createApiMetrics();
  registerRequestMetrics(app, metrics);
  registerRequestTracing(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', canonicalUuidParams);
  registerProblemHandlers(app);
  app.addHook('onRoute', declareFrameworkProblems);

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
  if (deps.services) {
    registerGuard(app, deps.services);
    registerVendorRoutes(app, deps.services);
    registerIntegrationRoutes(app, deps.services);
    registerActionRoutes(app, deps.services);
    registerOAuthCallbackRoute(app, deps.services);
    registerSamlAcsRoute(app, deps.services);
    registerSamlMetadataRoute(app, deps.services);
    registerInstallationSetupRoute(app, deps.services);
    registerWorkspaceRoutes(app, deps.services);
    registerWebhookReceivers(app, deps.services, metrics);
  }
  if (deps.codec) registerCodecRoutes(app, deps.codec);
  sendServerTiming(app);
  await app.ready();
  return app;
}
