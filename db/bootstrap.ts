/**
 * Creates the database, its owner and the service's login role on a cluster where we hold a
 * superuser (embedded Postgres, the docker compose init). Managed Postgres deployments do the same
 * once by hand (README, "Data tier") and skip this.
 */
import { Client } from 'pg';
import { APP_LOGIN_ROLE, DATABASE_NAME, OWNER_ROLE } from './roles';

export interface DatabaseUrls {
  /** Owner: runs migrations. */
  ownerUrl: string;
  /** Runtime login: privileges only through SET ROLE to the runtime roles. */
  appUrl: string;
}

function withCredentials(base: string, user: string, password: string, database: string): string {
  const url = new URL(base);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
}

async function ensureLoginRole(client: Client, role: string, password: string, attributes: string): Promise<void> {
  const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
  const verb = exists.rowCount ? 'ALTER' : 'CREATE';
  // Identifiers are our constants; the password goes through format('%L') so it is quoted by Postgres.
  const { rows } = await client.query<{ sql: string }>(
    `select format('${verb} ROLE %I ${attributes} PASSWORD %L', $1::text, $2::text) as sql`,
    [role, password],
  );
  await client.query(rows[0]!.sql);
}

export async function bootstrapDatabase(
  superuserUrl: string,
  passwords: { owner: string; app: string },
  database: string = DATABASE_NAME,
): Promise<DatabaseUrls> {
  const client = new Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    await ensureLoginRole(client, OWNER_ROLE, passwords.owner, 'LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS');
    // NOINHERIT: the login itself holds nothing; it acts only after SET ROLE.
    await ensureLoginRole(
      client,
      APP_LOGIN_ROLE,
      passwords.app,
      'LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB',
    );
    const db = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!db.rowCount) await client.query(`CREATE DATABASE "${database}" OWNER ${OWNER_ROLE}`);
    await client.query(`GRANT CONNECT ON DATABASE "${database}" TO ${APP_LOGIN_ROLE}`);
  } finally {
    await client.end();
  }
  return {
    ownerUrl: withCredentials(superuserUrl, OWNER_ROLE, passwords.owner, database),
    appUrl: withCredentials(superuserUrl, APP_LOGIN_ROLE, passwords.app, database),
  };
}
