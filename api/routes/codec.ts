/**
 * The Temporal UI's remote codec endpoint (`POST /codec/decode`, `POST /codec/encode`): the UI
 * sends the encrypted payloads it shows and gets them back decrypted, so histories are readable
 * for an authorized operator while the Temporal server and its database only store ciphertext.
 *
 * Called cross-origin from the browser, so CORS allows exactly the configured UI origin, with
 * `Authorization` (the UI's "pass access token") and `X-Namespace`. Authorization is injected: the
 * API plugs its JWT check with an ops-capable role; tests pass their own. Each call is logged with
 * the caller's subject and payload count, never the contents. It is an operator's call across
 * workspaces, not a workspace-scoped action, so it goes to the ops log rather than an audit log.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Api } from '../types';
import { HttpProblem, problemResponses } from '../problem';

export interface CodecCaller {
  /** Opaque subject id (JWT `sub`): logged, never a name or e-mail. */
  subject: string;
}

export interface CodecRouteOptions {
  codec: PayloadCodec;
  /** The Temporal namespace whose keys this codec holds; other namespaces are refused. */
  namespace: string;
  /** Base URL of the Temporal UI (`config.temporal.uiUrl`): its origin is the only one allowed. */
  uiUrl: string;
  /** The authenticated caller, or null (→ 401). Throw `HttpProblem(403, …)` for a caller without the ops role. */
  authorize(request: FastifyRequest): Promise<CodecCaller | null>;
}

/** The remote codec wire format: metadata values and data are base64 (protobuf JSON mapping). */
const WirePayload = Type.Object({
  metadata: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 1024 }))),
  data: Type.Optional(Type.String()),
});
const WirePayloads = Type.Object({ payloads: Type.Array(WirePayload, { maxItems: 1_000 }) });
type WirePayloads = Static<typeof WirePayloads>;

/** Preflight answers are cached by the browser for this long (seconds): one preflight per page visit. */
const PREFLIGHT_MAX_AGE_S = 600;

function fromWire(payload: WirePayloads['payloads'][number]): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toWire(payload: Payload): WirePayloads['payloads'][number] {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

export function registerCodecRoutes(app: Api, options: CodecRouteOptions): void {
  const uiOrigin = new URL(options.uiUrl).origin;

  const allowOrigin = (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.origin !== uiOrigin) return;
    reply.header('access-control-allow-origin', uiOrigin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
  };

  for (const operation of ['decode', 'encode'] as const) {
    const url = `/codec/${operation}`;
    app.options(url, { schema: { hide: true } }, async (request, reply) => {
      allowOrigin(request, reply);
      if (request.headers.origin === uiOrigin) {
        reply.header('access-control-allow-methods', 'POST, OPTIONS');
        reply.header('access-control-allow-headers', 'Authorization, Content-Type, X-Namespace');
        reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
      }
      return reply.status(204).send();
    });

    app.post(
      url,
      {
        schema: {
          tags: ['ops'],
          summary: `Temporal UI remote codec: ${operation} payloads (operators only)`,
          body: WirePayloads,
          response: { 200: WirePayloads, ...problemResponses(422) },
        },
        // Set CORS before authorization so the browser can read a 401/403 answer too.
        onRequest: async (request, reply) => allowOrigin(request, reply),
      },
      async (request) => {
        const caller = await options.authorize(request);
        if (!caller)
          throw new HttpProblem(401, 'A valid bearer token is required', { headers: { 'www-authenticate': 'Bearer' } });
        const namespace = request.headers['x-namespace'];
        if (namespace !== undefined && namespace !== options.namespace) {
          throw new HttpProblem(422, 'This codec serves another Temporal namespace');
        }
        const body = request.body as WirePayloads;
        const payloads = body.payloads.map(fromWire);
        let result: Payload[];
        try {
          result = operation === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
        } catch {
          // The codec's message names only a key id; still, no detail leaves besides the outcome.
          request.log.warn(
            { action: `codec.${operation}`, subject: caller.subject, payloads: payloads.length },
            'codec refused payloads',
          );
          throw new HttpProblem(422, 'A payload could not be decoded: unknown key or failed authentication');
        }
        request.log.info(
          {
            action: `codec.${operation}`,
            subject: caller.subject,
            namespace: options.namespace,
            payloads: payloads.length,
          },
          'codec call',
        );
        return { payloads: result.map(toWire) };
      },
    );
  }
}
