/**
 * The Temporal UI's remote codec endpoint (`POST /codec/decode`, `POST /codec/encode`): the UI
 * (and `temporal workflow show --codec-endpoint`) sends the encrypted payloads it shows and gets
 * them back decrypted, so histories are readable for an operator while the Temporal server and its
 * database only store ciphertext.
 *
 * Called cross-origin from the browser, so CORS allows exactly the configured UI origin, with the
 * headers the UI sends: `Content-Type`, `X-Namespace`, `Authorization` and `Authorization-Extras`
 * (its ID token, when it forwards its access token). Who is an operator is `api/codecAuth.ts`.
 * Decodes are operator actions: rate limited per client address and per operator, and every call
 * of an identified caller goes to the operator audit log (`db/operatorAudit.ts`) with its outcome
 * and payload count, never the contents.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { OperatorAuditSink } from '../../db/operatorAudit';
import type { CodecAuthorizer, CodecCaller } from '../codecAuth';
import { TokenBuckets, type BucketPolicy } from '../rateLimit';
import type { Api } from '../types';
import { HttpProblem, problemResponses } from '../problem';

export interface CodecRouteOptions {
  codec: PayloadCodec;
  /** The Temporal namespace whose keys this codec holds; other namespaces are refused. */
  namespace: string;
  /** Base URL of the Temporal UI (`config.temporal.uiUrl`): its origin is the only one allowed. */
  uiUrl: string;
  authorize: CodecAuthorizer;
  audit: OperatorAuditSink;
  /** Default CODEC_RATE_LIMITS. */
  rateLimits?: CodecRateLimits;
}

export interface CodecRateLimits {
  /** Every call, before its token is checked: bounds JWKS verifications by strangers. */
  address: BucketPolicy;
  /** Per operator. */
  operator: BucketPolicy;
}

/** The UI decodes each payload it shows in its own call: opening a long history is a burst of a few hundred. */
export const CODEC_RATE_LIMITS: CodecRateLimits = {
  address: { capacity: 600, refillPerSecond: 100 },
  operator: { capacity: 400, refillPerSecond: 50 },
};

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

const tooManyRequests = (retryAfterS: number) =>
  new HttpProblem(429, 'Too many codec calls; retry later', { headers: { 'retry-after': String(retryAfterS) } });

export function registerCodecRoutes(app: Api, options: CodecRouteOptions): void {
  const uiOrigin = new URL(options.uiUrl).origin;
  const limits = options.rateLimits ?? CODEC_RATE_LIMITS;
  const byAddress = new TokenBuckets(limits.address);
  const byOperator = new TokenBuckets(limits.operator);

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
        reply.header('access-control-allow-headers', 'Authorization, Authorization-Extras, Content-Type, X-Namespace');
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
        const addressWait = byAddress.take(request.ip);
        if (addressWait > 0) throw tooManyRequests(addressWait);
        const decision = await options.authorize(request);
        if (decision.kind === 'anonymous')
          throw new HttpProblem(401, 'A valid bearer token is required', { headers: { 'www-authenticate': 'Bearer' } });
        const body = request.body as WirePayloads;
        const audit = (caller: CodecCaller, outcome: 'success' | 'failure' | 'denied') =>
          options.audit.record({
            operator: caller.subject,
            authMethod: caller.method,
            action: `codec.${operation}`,
            namespace: options.namespace,
            payloads: body.payloads.length,
            outcome,
            requestId: request.id,
          });
        if (decision.kind === 'not-operator') {
          await audit(decision.caller, 'denied');
          throw new HttpProblem(403, 'Decoding payloads is for operators only');
        }
        const { caller } = decision;
        const operatorWait = byOperator.take(caller.subject);
        if (operatorWait > 0) throw tooManyRequests(operatorWait);
        const namespace = request.headers['x-namespace'];
        if (namespace !== undefined && namespace !== options.namespace) {
          throw new HttpProblem(422, 'This codec serves another Temporal namespace');
        }
        const payloads = body.payloads.map(fromWire);
        let result: Payload[];
        try {
          result = operation === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
        } catch {
          // The codec's message names only a key id; still, no detail leaves besides the outcome.
          await audit(caller, 'failure');
          throw new HttpProblem(422, 'A payload could not be decoded: unknown key or failed authentication');
        }
        // Audited before the plaintext leaves: a decode the log cannot record is not answered.
        await audit(caller, 'success');
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
