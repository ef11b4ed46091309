/**
 * The T20 catalog check: reads Postgres' catalog and lists every way in which the deployed schema
 * breaks the isolation rules. An empty list is the only passing result.
 */
import type { Knex } from 'knex';
import { RUNTIME_ROLES } from '../../../db/roles';

/**
 * The only SECURITY DEFINER functions allowed: cross-workspace maintenance RLS cannot express, the API's
 * shared rate limits, the KEK rotation, and the vendor budgets every worker shares (hashed keys, no workspace data).
 */
export const SECURITY_DEFINER_ALLOW_LIST = [
  'sweep_expired_cache',
  'audit_log_apply_retention',
  'route_app_webhook',
  'unsignalled_webhook_integrations',
  'rate_limit_consume',
  'kek_usage',
  'kek_rewrap_claim',
  'kek_rewrap_apply',
  'vendor_budget_lease',
  'vendor_budget_block',
];

const ISOLATION_EXPRESSION = '(workspace_id = app_current_workspace())';

export async function findIsolationViolations(db: Knex | Knex.Transaction): Promise<string[]> {
  const violations: string[] = [];
  const runtimeRoles = Object.values(RUNTIME_ROLES);

  // Customer tables: every table of schema public with a workspace_id column.
  const tables = await db.raw<{
    rows: {
      name: string;
      rls: boolean;
      forced: boolean;
      isolating_policies: number;
      public_grants: number;
      runtime_grants: number;
    }[];
  }>(
    `
    SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
      (SELECT count(*) FROM pg_policies p
        WHERE p.schemaname = 'public' AND p.tablename = c.relname AND p.cmd = 'ALL' AND p.permissive = 'PERMISSIVE'
          AND p.qual = ? AND p.with_check = ?)::int AS isolating_policies,
      (SELECT count(*) FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) acl WHERE acl.grantee = 0)::int AS public_grants,
      (SELECT count(*) FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) acl
        WHERE acl.grantee IN (SELECT oid FROM pg_roles WHERE rolname = ANY (?)))::int AS runtime_grants
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)
    ORDER BY c.relname
    `,
    [ISOLATION_EXPRESSION, ISOLATION_EXPRESSION, runtimeRoles],
  );
  if (tables.rows.length === 0) violations.push('no customer tables found (wrong database?)');
  for (const t of tables.rows) {
    if (!t.rls) violations.push(`table ${t.name}: row level security not enabled`);
    if (!t.forced) violations.push(`table ${t.name}: row level security not forced`);
    if (t.isolating_policies < 1)
      violations.push(`table ${t.name}: no policy "workspace_id = app_current_workspace()" for ALL commands`);
    if (t.public_grants > 0) violations.push(`table ${t.name}: privileges granted to PUBLIC`);
    if (t.runtime_grants < 1) violations.push(`table ${t.name}: no explicit grant to a runtime role`);
  }

  const roles = await db.raw<{
    rows: { rolname: string; rolsuper: boolean; rolbypassrls: boolean; temp: boolean; owned: number }[];
  }>(
    `
    SELECT r.rolname, r.rolsuper, r.rolbypassrls, has_database_privilege(r.oid, current_database(), 'TEMP') AS temp,
      ((SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
        + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) + (SELECT count(*) FROM pg_type WHERE typowner = r.oid))::int AS owned
    FROM pg_roles r WHERE r.rolname = ANY (?)
    `,
    [runtimeRoles],
  );
  for (const name of runtimeRoles) {
    const role = roles.rows.find((r) => r.rolname === name);
    if (role?.temp) violations.push(`role ${name}: may create temporary tables (they shadow unqualified names)`);
    if (!role) violations.push(`role ${name}: missing`);
    else {
      if (role.rolsuper) violations.push(`role ${name}: is superuser`);
      if (role.rolbypassrls) violations.push(`role ${name}: has BYPASSRLS`);
      if (role.owned > 0) violations.push(`role ${name}: owns ${role.owned} objects`);
    }
  }

  // A search_path without pg_temp searches it first for tables: pinned paths must name it, last.
  const pinned = await db.raw<{ rows: { name: string; setting: string }[] }>(`
    SELECT p.proname AS name, cfg AS setting
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace CROSS JOIN unnest(p.proconfig) cfg
    WHERE n.nspname = 'public' AND cfg LIKE 'search_path=%'
  `);
  for (const fn of pinned.rows) {
    if (!/,\s*pg_temp$/.test(fn.setting)) violations.push(`function ${fn.name}: search_path does not put pg_temp last`);
  }

  const definers = await db.raw<{ rows: { name: string; pinned_search_path: boolean; public_execute: boolean }[] }>(`
    SELECT p.proname AS name,
      coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%'), false) AS pinned_search_path,
      EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) acl WHERE acl.grantee = 0) AS public_execute
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  `);
  for (const fn of definers.rows) {
    if (!SECURITY_DEFINER_ALLOW_LIST.includes(fn.name))
      violations.push(`function ${fn.name}: SECURITY DEFINER outside the allow-list`);
    if (!fn.pinned_search_path) violations.push(`function ${fn.name}: SECURITY DEFINER without a pinned search_path`);
    if (fn.public_execute) violations.push(`function ${fn.name}: SECURITY DEFINER executable by PUBLIC`);
  }
  return violations;
}
