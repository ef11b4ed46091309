/**
 * `npm run token -- --workspace <uuid> --role admin|member|service [--sub <id>] [--ttl 1h]`
 *
 * Mints a development bearer token (HS256, 1 h by default) with the API's secret: JWT_SECRET, or
 * the one generated into `<dataDir>/jwt-secret`. Production tokens come from the identity
 * provider (JWT_JWKS_URL); this script refuses to run there.
 */
import { parseArgs } from 'node:util';
import { mintToken, resolveHsSecret, ROLES, type Role } from '../api/auth';
import { loadConfigOrExit, parseDuration } from '../lib/config';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Development tokens are short-lived; a day is the most this script will mint. */
const MAX_TTL_MS = 24 * 60 * 60_000;

function fail(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run token -- --workspace <uuid> --role ${ROLES.join('|')} [--sub <id>] [--ttl 1h]\n`,
  );
  process.exit(64); // EX_USAGE
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workspace: { type: 'string' },
      role: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
    },
  });
  if (!values.workspace || !UUID.test(values.workspace)) fail('--workspace must be a UUID');
  if (!values.role || !(ROLES as readonly string[]).includes(values.role))
    fail(`--role must be one of ${ROLES.join(', ')}`);
  const ttlMs = parseDuration(values.ttl!);
  if (ttlMs === undefined || ttlMs < 1000 || ttlMs > MAX_TTL_MS)
    fail('--ttl must be a duration from 1s to 1d, e.g. 15m or 1h');
  const config = loadConfigOrExit();
  if (config.auth.jwksUrl) fail('JWT_JWKS_URL is set: tokens come from the identity provider, not from this script');
  const secret = resolveHsSecret(config);
  if (!secret) fail('no HS256 secret: set JWT_SECRET');
  const token = await mintToken({
    secret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    sub: values.sub ?? `dev-${values.role}`,
    workspaceId: values.workspace.toLowerCase(),
    role: values.role as Role,
    expiresIn: `${Math.floor(ttlMs / 1000)}s`,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  process.stderr.write(`token failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
