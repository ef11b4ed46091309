/**
 * Where a sync page's time goes, measured from outside the production code (`npm run bench:sync`):
 * the connector's `fetchPage` is wrapped (the vendor call: SDK, HTTP, the vendor's own time and the
 * audited path with its audit append), the audit sink is wrapped (the append alone), and every SQL
 * statement (BEGIN and COMMIT too) is timed at the knex dialect's `_query` and classed by what it
 * does. The bench process only: the patch lasts for the process. What no class covers (pool waits, JSON, the activity's own code) is
 * `other`; when steps run at the same time (`syncPages` fetches the next page while a page commits)
 * their sum exceeds the wall time and the difference is shown as `overlap`.
 */
import type { Knex } from 'knex';
import type { AuditSink } from '../lib/audit';
import type { Connector } from '../activities/vendors/types';

/** SQL classes in the order a page runs them; the first pattern that matches names the statement. */
const SQL_STEPS: Array<[step: string, pattern: RegExp]> = [
  ['transaction begin/commit', /^(BEGIN|COMMIT|ROLLBACK)\b/i],
  ['audit append (its SQL)', /audit_log_append/i],
  ['workspace scope (set_config)', /set_config/i],
  ['status lock (integrations FOR SHARE)', /from "integrations".*for share/is],
  ['cursor lock (sync_state FOR UPDATE)', /from "sync_state".*for update/is],
  ['cursor read (sync_state)', /from "sync_state"/i],
  ['upsert (cached_records)', /insert into cached_records/i],
  ['cursor + counts write (sync_state)', /update "sync_state"/i],
  ['integration + credential read', /from "(integrations|integration_secrets|secrets)"/i],
];

export interface PageProfile {
  /** Milliseconds per step, summed over the profiled interval. */
  steps: Map<string, number>;
  start(): void;
  /** Ends the interval: ms per page of each step, `other` being the rest of the wall time. */
  stop(pages: number): Array<{ step: string; msPerPage: number; fraction: number }>;
}

export function profileSyncPages(
  db: Knex,
  audit: AuditSink,
  connector: Connector,
): {
  audit: AuditSink;
  connector: Connector;
  profile: PageProfile;
} {
  const steps = new Map<string, number>();
  let on = false;
  let startedAt = 0;
  const add = (step: string, ms: number) => {
    if (on) steps.set(step, (steps.get(step) ?? 0) + ms);
  };
  // Every statement of the process, BEGIN and COMMIT included, passes through the dialect's
  // `_query`; transactions run on a client made from the same prototype, so it is timed there.
  const dialect = Object.getPrototypeOf(db.client) as {
    _query(connection: unknown, query: { sql: string }): Promise<unknown>;
  };
  const query = dialect._query;
  dialect._query = async function timedQuery(this: unknown, connection, statement) {
    const step = SQL_STEPS.find(([, pattern]) => pattern.test(statement.sql))?.[0] ?? 'other SQL';
    const at = performance.now();
    try {
      return await query.call(this, connection, statement);
    } finally {
      add(step, performance.now() - at);
    }
  };

  const timedAudit: AuditSink = {
    ...audit,
    async record(entry) {
      const at = performance.now();
      try {
        return await audit.record(entry);
      } finally {
        add('audit append (whole)', performance.now() - at);
      }
    },
  };
  const timedFetchPage: Connector['fetchPage'] = async (...args) => {
    const at = performance.now();
    try {
      return await connector.fetchPage(...args);
    } finally {
      add('vendor call (fetchPage, incl. audit append)', performance.now() - at);
    }
  };
  // A proxy, not a copy: class-based connectors keep their methods and their state.
  const timedConnector = new Proxy(connector, {
    get: (target, property, receiver) =>
      property === 'fetchPage' ? timedFetchPage : (Reflect.get(target, property, receiver) as unknown),
  });

  const profile: PageProfile = {
    steps,
    start() {
      steps.clear();
      on = true;
      startedAt = performance.now();
    },
    stop(pages) {
      on = false;
      const wall = performance.now() - startedAt;
      // The audit append runs inside the vendor call: counted there, shown apart as a part of it.
      const outside = [...steps]
        .filter(([step]) => !step.startsWith('audit append'))
        .reduce((sum, [, ms]) => sum + ms, 0);
      // Negative when steps ran at the same time (the next page's fetch during this page's commit).
      const rest = wall - outside;
      const rows = [
        ...steps,
        [rest >= 0 ? 'other (pool, JSON, activity code)' : 'overlap (steps at the same time)', rest] as [
          string,
          number,
        ],
      ];
      return rows.map(([step, ms]) => ({
        step,
        msPerPage: Number((ms / pages).toFixed(2)),
        fraction: Number((ms / wall).toFixed(3)),
      }));
    },
  };
  return { audit: timedAudit, connector: timedConnector, profile };
}
