/**
 * Liveness and readiness. `/readyz` names each dependency that is missing, so an operator (or a
 * probe log) says *what* is down, not only that something is. A check that is not `required` is
 * reported but never takes the API out of service.
 */
import type { Api } from '../types';
import { Type } from 'typebox';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /** Default true. False: reported in `checks` (and `degraded`) while the API stays ready. */
  required?: boolean;
}

const CHECK_TIMEOUT_MS = 3_000;

async function runCheck(check: ReadinessCheck): Promise<{ name: string; ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name: check.name, ok: true };
  } catch (error) {
    return { name: check.name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

const CheckResult = Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) });

export function registerHealthRoutes(app: Api, checks: ReadinessCheck[]): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Process is up',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary:
          'Dependencies reachable: Postgres and Temporal (a worker polling the task queue is reported, not required)',
        security: [],
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            degraded: Type.Array(Type.String()),
            checks: Type.Array(CheckResult),
          }),
          503: Type.Object({
            status: Type.Literal('not-ready'),
            missing: Type.Array(Type.String()),
            checks: Type.Array(CheckResult),
          }),
        },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(checks.map(runCheck));
      const failed = (required: boolean) =>
        results.filter((r, i) => !r.ok && (checks[i]!.required ?? true) === required).map((r) => r.name);
      const missing = failed(true);
      if (missing.length > 0) return reply.status(503).send({ status: 'not-ready' as const, missing, checks: results });
      return { status: 'ready' as const, degraded: failed(false), checks: results };
    },
  );
}
