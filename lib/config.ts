/**
 * Typed configuration, read and validated once at start-up.
 *
 * Every problem is collected and reported together (`ConfigError`), so an operator fixes a bad
 * deployment in one pass instead of one variable per restart. Nothing here throws a stack trace
 * at the user: entry points catch `ConfigError` and print its message.
 *
 * Temporal connection settings follow `@temporalio/envconfig` conventions (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_GRPC_META_*, TEMPORAL_PROFILE,
 * TEMPORAL_CONFIG_FILE): that package resolves the profile here, from the same environment, so the
 * API, the worker, the codec endpoint and the scripts all connect to one address and namespace with
 * one credential (a Temporal Cloud API key or mTLS client certificate).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import { DEFAULT_TASK_QUEUE } from '@trackproject/integrations-client/workflows';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** The longest disconnect-to-purge window the trust pages allow (T15). */
export const MAX_PURGE_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Longest bearer-token lifetime (`exp - iat`) accepted unless JWT_MAX_LIFETIME says otherwise. A day
 * admits the identity providers' usual client-credentials tokens (Auth0 issues 24 h, Entra 60–90 min)
 * and still bounds what a leaked token is worth; a long-lived "forever" token is refused.
 */
export const DEFAULT_JWT_MAX_LIFETIME_MS = 24 * 60 * 60 * 1000;

export interface Config {
  env: 'development' | 'test' | 'production';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Folder for local state: Temporal SQLite file, embedded Postgres, dev keys. */
  dataDir: string;
  api: {
    host: string;
    port: number;
    publicUrl: string;
    /**
     * The proxies in front of the API whose `X-Forwarded-For` names the client (rate limits of
     * calls without a token are per client address): their addresses and CIDRs.
     * Unset: the socket's address, which behind a load balancer is the balancer's for everyone.
     */
    trustProxy?: string[];
  };
  temporal: {
    /** TEMPORAL_ADDRESS or the profile's; unset: `npm start` runs the embedded dev server. */
    address?: string;
    /** TEMPORAL_NAMESPACE, else the profile's, else `default`. */
    namespace: string;
    /** The profile's credentials: API key (Temporal Cloud), TLS with an optional client certificate (mTLS), gRPC metadata. */
    connection: TemporalConnectionSettings;
    taskQueue: string;
    /** Base URL of the Temporal UI, for links to runs. */
    uiUrl: string;
    devServer: { port: number; uiPort: number };
    /** Base64 32-byte payload encryption key; unset in development: one is generated in dataDir. */
    codecKey?: string;
    /** One base64 key per line, current first (rotation: older keys still decrypt). */
    codecKeyFile?: string;
    /** Who may decode payloads through the API's codec endpoint (the Temporal UI, the CLI). */
    codecAuth: CodecAuthConfig;
  };
  database: {
    /** Owner connection (migrations). Unset: `npm start` runs embedded Postgres. */
    url?: string;
    /** Runtime login (no privileges of its own; the pool `SET ROLE`s to api/worker). */
    appUrl?: string;
    embeddedPort: number;
    poolMax: number;
  };
  secrets: {
    /** Where the key-encryption keys live (docs/key-management.md). */
    keyProvider: KeyProviderName;
    /** Base64 32-byte key-encryption key; unset in development: one is generated in dataDir. */
    localKek?: string;
    localKekFile?: string;
    /** `KEY_PROVIDER=aws-kms`: the KEK (an alias for rotation), its region, and an emulator's endpoint. */
    awsKms?: { keyId: string; region: string; endpoint?: string };
    /** Interval of the KEK rotation Schedule; undefined: `KEK_ROTATION_EVERY=off`. */
    kekRotationEveryMs?: number;
  };
  auth: {
    /** HS256 shared secret (development default); production uses a JWKS URL. */
    jwtSecret?: string;
    jwksUrl?: string;
    issuer: string;
    audience: string;
    /** Tokens whose `exp - iat` exceeds this, or that lack either claim, are refused. */
    maxLifetimeMs: number;
  };
  /** The worker's probe endpoint (`/healthz`, `/readyz`); port 0 turns it off. */
  workerHealth: { host: string; port: number };
  /**
   * WORKER_SHUTDOWN_GRACE: after SIGTERM, how long in-flight activities may run before they are
   * cancelled. Kubernetes' `terminationGracePeriodSeconds` must exceed it (the chart adds a margin).
   */
  workerShutdownGraceMs: number;
  /**
   * WORKER_CACHED_WORKFLOWS: workflows the worker keeps in memory between tasks (its sticky cache);
   * unset: the SDK's default, derived from the heap limit. Size it to the pod's memory with the
   * per-workflow figure of `bench:scale` (docs/benchmarks.md).
   */
  workerCachedWorkflows?: number;
  /**
   * WORKFLOW_BUNDLE: a pre-built workflow bundle the worker loads instead of bundling `workflows/`
   * at start (the chaos harness bundles once for its many workers); unset: `npm run build`'s, if any.
   */
  workflowBundle?: string;
  /**
   * Workers expected to share each vendor budget: a worker that cannot reach the shared budget store
   * spends 1/expectedWorkers of each budget until it can again.
   */
  vendorBudgets: { expectedWorkers: number };
  /** Disconnect → purge delay; never more than 30 days (T15). */
  purgeDelayMs: number;
  /** Run the vendor emulators and point connectors at them (offline sandbox). */
  sandboxVendors: boolean;
  /**
   * Prometheus endpoints, `ip:port`; unset: not served. Each is its own listener, apart from the
   * public API port, so only the network that scrapes can read it.
   */
  metrics: { workerAddress?: string; apiAddress?: string };
  /** OTLP/HTTP collector base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`; spans go to `<url>/v1/traces`); unset: no traces exported. */
  tracing: { otlpEndpoint?: string };
}

/** What a Temporal connection needs besides its address; secrets, so never logged. */
export interface TemporalConnectionSettings {
  apiKey?: string;
  /** `true`: TLS with the system's roots (an API key implies it); `false`: plain. */
  tls?: TLSConfig | boolean;
  metadata?: Record<string, string>;
}

/** Default WORKER_SHUTDOWN_GRACE: longer than a data-out action may run (its start-to-close timeout). */
export const DEFAULT_WORKER_SHUTDOWN_GRACE_MS = 75_000;

export const KEY_PROVIDERS = ['local', 'aws-kms'] as const;
export type KeyProviderName = (typeof KEY_PROVIDERS)[number];

/** A new KEK every 90 days unless KEK_ROTATION_EVERY says otherwise; never more often than daily (each AWS key is billed). */
export const DEFAULT_KEK_ROTATION_EVERY = '90d';
export const MIN_KEK_ROTATION_MS = 24 * 60 * 60 * 1000;

/**
 * Decoding crosses workspaces, so it is an operator privilege of our organisation, never a
 * workspace role: operators are whoever the organisation's IdP puts in the operator group.
 */
export interface CodecAuthConfig {
  /**
   * Development only: a call with no token from this machine (loopback client, loopback Host, the
   * local UI's origin) decodes as the local developer. Config refuses it in production and with a
   * non-loopback API_HOST.
   */
  localDev: boolean;
  /** The organisation's IdP: the token the Temporal UI forwards (its OIDC access token) is verified here. */
  oidc?: { jwksUrl: string; issuer: string; audience: string; operatorClaim: string; operatorValue: string };
}

/** Hosts that only this machine reaches. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "30d", "12h", "90s", "250ms" or a bare number of milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!;
}

/**
 * What every config parser reads with: the core one below and each vendor's (`activities/vendors/<vendor>/config.ts`).
 * Problems are collected, never thrown one at a time, so one message lists them all.
 */
export interface ConfigReader {
  /** The trimmed value; empty counts as unset. */
  str(name: string): string | undefined;
  /** A URL with one of `protocols` (e.g. `https:`); a bad one is a problem that never echoes the value. */
  url(name: string, protocols: readonly string[]): string | undefined;
  /** Every set variable whose name starts with `prefix`, trimmed. */
  withPrefix(prefix: string): Record<string, string>;
  /** A value from NAME or from the file NAME_FILE (keys, certificates). */
  valueOrFile(name: string): string | undefined;
  /** An app registration is configured when all its required values are; partly configured is a problem. */
  app<T extends Record<string, string | undefined>>(
    displayName: string,
    required: T,
  ): { [K in keyof T]: string } | undefined;
  problem(message: string): void;
}

function createConfigReader(env: Env, problems: string[]): ConfigReader {
  const str = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  return {
    str,
    withPrefix(prefix) {
      const names = Object.keys(env).filter((name) => name.startsWith(prefix));
      return Object.fromEntries(names.flatMap((name) => (str(name) === undefined ? [] : [[name, str(name)!]])));
    },
    url(name, protocols) {
      const value = str(name);
      if (value === undefined) return undefined;
      try {
        const parsed = new URL(value);
        if (!protocols.includes(parsed.protocol)) {
          problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
        }
      } catch {
        // Never echo the value: database URLs carry passwords.
        problems.push(`${name} is not a valid URL`);
      }
      return value;
    },
    valueOrFile(name) {
      const file = str(`${name}_FILE`);
      if (!file) return str(name);
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        problems.push(`${name}_FILE cannot be read`);
        return undefined;
      }
    },
    app(displayName, required) {
      const missing = Object.entries(required)
        .filter(([, value]) => value === undefined)
        .map(([key]) => key);
      if (missing.length === Object.keys(required).length) return undefined;
      if (missing.length > 0) {
        problems.push(`${displayName} app is partly configured: missing ${missing.join(', ')}`);
        return undefined;
      }
      return required as { [K in keyof typeof required]: string };
    },
    problem: (message) => void problems.push(message),
  };
}

/**
 * Runs `parse` (core config, or core composed with the vendors' parsers at an entry point) with one
 * reader over `env`: every problem any parser found is reported together in one ConfigError.
 */
export function parseConfig<T>(env: Env, parse: (read: ConfigReader) => T): T {
  const problems: string[] = [];
  const config = parse(createConfigReader(env, problems));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function loadConfig(env: Env = process.env): Config {
  return parseConfig(env, readCoreConfig);
}

/** The service's own settings; vendor app registrations are read by their folders' parsers. */
export function readCoreConfig(read: ConfigReader): Config {
  const { str, url } = read;

  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = str(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      read.problem(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  };
  const port = (name: string, fallback: number): number => {
    const value = str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      read.problem(`${name} must be a TCP port 1-65535 (got "${value}")`);
      return fallback;
    }
    return n;
  };
  const portOrOff = (name: string, fallback: number): number => (str(name) === '0' ? 0 : port(name, fallback));
  const positiveInt = (name: string, fallback: number): number => {
    const value = str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      read.problem(`${name} must be a positive integer (got "${value}")`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string): boolean => {
    const value = str(name);
    if (value === undefined) return false;
    if (['1', 'true', 'yes'].includes(value.toLowerCase())) return true;
    if (['0', 'false', 'no'].includes(value.toLowerCase())) return false;
    read.problem(`${name} must be true or false (got "${value}")`);
    return false;
  };

  const nodeEnv = oneOf('NODE_ENV', ['development', 'test', 'production'] as const, 'development');
  const dataDir = path.resolve(REPO_ROOT, str('DATA_DIR') ?? '.data');
  const apiPort = port('API_PORT', 3000);
  const devServerPort = port('TEMPORAL_DEV_SERVER_PORT', 7233);
  const devServerUiPort = port('TEMPORAL_DEV_SERVER_UI_PORT', 8233);
  const temporalProfile = readTemporalProfile(read);
  const temporalAddress = temporalProfile.address;
  if (temporalAddress !== undefined && !/^[^\s/:]+(:\d{1,5})?$/.test(temporalAddress)) {
    read.problem(`TEMPORAL_ADDRESS must be host:port (got "${temporalAddress}")`);
  }
  const workflowBundle = str('WORKFLOW_BUNDLE') && path.resolve(str('WORKFLOW_BUNDLE')!);
  if (workflowBundle && !fs.existsSync(workflowBundle))
    read.problem(`WORKFLOW_BUNDLE names no file (${workflowBundle})`);
  const graceText = str('WORKER_SHUTDOWN_GRACE');
  let workerShutdownGraceMs = graceText === undefined ? DEFAULT_WORKER_SHUTDOWN_GRACE_MS : parseDuration(graceText);
  if (workerShutdownGraceMs === undefined || workerShutdownGraceMs < 1000) {
    read.problem(`WORKER_SHUTDOWN_GRACE must be a duration of at least 1s such as 75s (got "${graceText}")`);
    workerShutdownGraceMs = DEFAULT_WORKER_SHUTDOWN_GRACE_MS;
  }

  const purgeText = str('PURGE_DELAY') ?? '30d';
  let purgeDelayMs = parseDuration(purgeText);
  if (purgeDelayMs === undefined) {
    read.problem(`PURGE_DELAY must be a duration such as 30d, 12h or 90s (got "${purgeText}")`);
    purgeDelayMs = MAX_PURGE_DELAY_MS;
  } else if (purgeDelayMs > MAX_PURGE_DELAY_MS) {
    read.problem(`PURGE_DELAY must not exceed 30d: cached source data is deleted within 30 days of disconnect`);
    purgeDelayMs = MAX_PURGE_DELAY_MS;
  }

  const localKek = str('SECRETS_KEK');
  if (localKek !== undefined && Buffer.from(localKek, 'base64').length !== 32) {
    read.problem('SECRETS_KEK must be 32 bytes, base64-encoded');
  }
  const keyProvider = oneOf('KEY_PROVIDER', KEY_PROVIDERS, 'local');
  const codecKey = str('TEMPORAL_CODEC_KEY');
  if (codecKey !== undefined && Buffer.from(codecKey, 'base64').length !== 32) {
    read.problem('TEMPORAL_CODEC_KEY must be 32 bytes, base64-encoded');
  }
  const jwtSecret = str('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    read.problem('JWT_SECRET must be at least 32 characters');
  }
  const jwksUrl = url('JWT_JWKS_URL', ['https:', 'http:']);
  const maxLifetimeText = str('JWT_MAX_LIFETIME') ?? '24h';
  let jwtMaxLifetimeMs = parseDuration(maxLifetimeText);
  if (jwtMaxLifetimeMs === undefined || jwtMaxLifetimeMs < 1000) {
    read.problem(`JWT_MAX_LIFETIME must be a duration of at least 1s such as 1h or 24h (got "${maxLifetimeText}")`);
    jwtMaxLifetimeMs = DEFAULT_JWT_MAX_LIFETIME_MS;
  }
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const databaseAppUrl = url('DATABASE_APP_URL', ['postgres:', 'postgresql:']);

  if (nodeEnv === 'production') {
    if (!temporalAddress) {
      read.problem(
        'TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE with an address) is required in production (no embedded dev server)',
      );
    }
    if (!databaseUrl) read.problem('DATABASE_URL is required in production (no embedded Postgres)');
    if (keyProvider === 'local' && !localKek && !str('SECRETS_KEK_FILE')) {
      read.problem('SECRETS_KEK or SECRETS_KEK_FILE is required in production (no generated development key)');
    }
    if (!codecKey && !str('TEMPORAL_CODEC_KEY_FILE')) {
      read.problem(
        'TEMPORAL_CODEC_KEY or TEMPORAL_CODEC_KEY_FILE is required in production (workflow payloads are encrypted)',
      );
    }
    if (!jwtSecret && !jwksUrl) read.problem('JWT_JWKS_URL (or JWT_SECRET) is required in production');
    // Keys fetched over plain HTTP can be swapped in transit: anyone on the path could mint tokens.
    if (jwksUrl?.startsWith('http:')) read.problem('JWT_JWKS_URL must use https: in production');
    // Falling back to DATABASE_URL would run the service as the owner, who can lift FORCE RLS on its tables.
    if (!databaseAppUrl) {
      read.problem('DATABASE_APP_URL is required in production (the runtime login, never the owner of DATABASE_URL)');
    }
  }

  // Core's Prometheus exporter binds a socket address: an IP literal, not a host name.
  const socketAddress = (name: string): string | undefined => {
    const value = str(name);
    if (value !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(value)) {
      read.problem(`${name} must be ip:port, e.g. 127.0.0.1:9464 (got "${value}")`);
      return undefined;
    }
    return value;
  };

  const apiHost = str('API_HOST') ?? '127.0.0.1';
  const apiPublicUrl = url('API_PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${apiPort}`;
  const uiUrl = url('TEMPORAL_UI_URL', ['http:', 'https:']) ?? `http://localhost:${devServerUiPort}`;
  const codecAuth = readCodecAuth(read, { nodeEnv, apiHost, apiPublicUrl, uiUrl });
  const trustProxy = readTrustProxy(read);
  return {
    env: nodeEnv,
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    dataDir,
    api: {
      host: apiHost,
      port: apiPort,
      publicUrl: apiPublicUrl,
      ...(trustProxy !== undefined ? { trustProxy } : {}),
    },
    temporal: {
      address: temporalAddress,
      namespace: temporalProfile.namespace ?? 'default',
      connection: temporalProfile.connection,
      taskQueue: str('TEMPORAL_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
      uiUrl,
      devServer: { port: devServerPort, uiPort: devServerUiPort },
      codecKey,
      codecKeyFile: str('TEMPORAL_CODEC_KEY_FILE'),
      codecAuth,
    },
    database: {
      url: databaseUrl,
      appUrl: databaseAppUrl,
      embeddedPort: port('EMBEDDED_POSTGRES_PORT', 5433),
      poolMax: positiveInt('DATABASE_POOL_MAX', 20),
    },
    secrets: {
      keyProvider,
      localKek,
      localKekFile: str('SECRETS_KEK_FILE'),
      ...readAwsKms(read, keyProvider, nodeEnv),
      kekRotationEveryMs: readKekRotationEvery(read),
    },
    auth: {
      jwtSecret,
      jwksUrl,
      issuer: str('JWT_ISSUER') ?? 'trackproject',
      audience: str('JWT_AUDIENCE') ?? 'trackproject-integrations',
      maxLifetimeMs: jwtMaxLifetimeMs,
    },
    workerHealth: { host: str('WORKER_HEALTH_HOST') ?? '127.0.0.1', port: portOrOff('WORKER_HEALTH_PORT', 3001) },
    workerShutdownGraceMs,
    workerCachedWorkflows:
      str('WORKER_CACHED_WORKFLOWS') === undefined ? undefined : positiveInt('WORKER_CACHED_WORKFLOWS', 1),
    ...(workflowBundle ? { workflowBundle } : {}),
    vendorBudgets: { expectedWorkers: positiveInt('VENDOR_BUDGET_WORKERS', 4) },
    purgeDelayMs,
    sandboxVendors: bool('SANDBOX_VENDORS'),
    metrics: {
      workerAddress: socketAddress('METRICS_WORKER_ADDRESS'),
      apiAddress: socketAddress('METRICS_API_ADDRESS'),
    },
    tracing: { otlpEndpoint: url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']) },
  };
}

/** The variables `@temporalio/envconfig` reads to find the profile file (besides TEMPORAL_*). */
const PROFILE_FILE_LOCATION_VARS = ['HOME', 'XDG_CONFIG_HOME', 'APPDATA'];

/**
 * The Temporal profile: the TOML file's profile (TEMPORAL_CONFIG_FILE, else the user's default file;
 * TEMPORAL_PROFILE, else `default`) overridden by TEMPORAL_* variables, as the Temporal CLI resolves it.
 */
function readTemporalProfile(read: ConfigReader): {
  address?: string;
  namespace?: string;
  connection: TemporalConnectionSettings;
} {
  const env = read.withPrefix('TEMPORAL_');
  for (const name of PROFILE_FILE_LOCATION_VARS) {
    const value = read.str(name);
    if (value !== undefined) env[name] = value;
  }
  const file = env.TEMPORAL_CONFIG_FILE;
  if (file !== undefined && !fs.existsSync(file)) {
    read.problem('TEMPORAL_CONFIG_FILE names a file that does not exist');
    return { connection: {} };
  }
  try {
    const profile = loadClientConfigProfile({ overrideEnvVars: env });
    if (profile.tls?.clientCert && !profile.tls.clientKey)
      read.problem('Temporal mTLS: a client certificate needs its key');
    if (profile.tls?.clientKey && !profile.tls.clientCert)
      read.problem('Temporal mTLS: a client key needs its certificate');
    const { connectionOptions } = toClientOptions(profile);
    const { apiKey, tls, metadata } = connectionOptions as TemporalConnectionSettings;
    return {
      address: profile.address,
      namespace: profile.namespace,
      connection: {
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(tls !== undefined ? { tls } : {}),
        ...(metadata !== undefined && Object.keys(metadata).length > 0 ? { metadata } : {}),
      },
    };
  } catch (error) {
    // The package's messages name profiles and keys, never values; a file that cannot be read says so.
    const reason =
      error instanceof Error && /^(Validation error|Profile )/.test(error.message)
        ? error.message
        : 'cannot be read or parsed';
    read.problem(`Temporal profile (TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE / TEMPORAL_TLS_*): ${reason}`);
    return { connection: {} };
  }
}

function readCodecAuth(
  read: ConfigReader,
  context: { nodeEnv: Config['env']; apiHost: string; apiPublicUrl: string; uiUrl: string },
): CodecAuthConfig {
  const { str } = read;
  if (str('TEMPORAL_CODEC_OPERATORS')) {
    read.problem('TEMPORAL_CODEC_OPERATORS is replaced by TEMPORAL_CODEC_OIDC_* (operators come from your IdP)');
  }
  const localDevText = str('TEMPORAL_CODEC_LOCAL_DEV');
  const localDev = localDevText !== undefined && ['1', 'true', 'yes'].includes(localDevText.toLowerCase());
  if (localDevText !== undefined && !localDev && !['0', 'false', 'no'].includes(localDevText.toLowerCase())) {
    read.problem(`TEMPORAL_CODEC_LOCAL_DEV must be true or false (got "${localDevText}")`);
  }
  if (localDev && context.nodeEnv === 'production') {
    read.problem('TEMPORAL_CODEC_LOCAL_DEV is for development only: production decodes only for IdP operators');
  }
  if (localDev && !LOOPBACK_HOSTS.includes(context.apiHost)) {
    read.problem('TEMPORAL_CODEC_LOCAL_DEV needs API_HOST on loopback (127.0.0.1, ::1 or localhost)');
  }

  const production = context.nodeEnv === 'production';
  const jwksUrl = read.url('TEMPORAL_CODEC_OIDC_JWKS_URL', production ? ['https:'] : ['https:', 'http:']);
  const issuer = str('TEMPORAL_CODEC_OIDC_ISSUER');
  const audience = str('TEMPORAL_CODEC_OIDC_AUDIENCE');
  const operatorValue = str('TEMPORAL_CODEC_OIDC_OPERATOR_VALUE');
  const oidc = read.app('Temporal codec OIDC', { jwksUrl, issuer, audience, operatorValue });
  if (!oidc) return { localDev };
  // The UI forwards its token only to an https endpoint; over http it would travel in clear.
  if (production && !context.apiPublicUrl.startsWith('https:')) {
    read.problem('API_PUBLIC_URL must use https: in production when TEMPORAL_CODEC_OIDC_* is set (the codec endpoint)');
  }
  if (production && !context.uiUrl.startsWith('https:')) {
    read.problem('TEMPORAL_UI_URL must use https: in production when TEMPORAL_CODEC_OIDC_* is set');
  }
  return { localDev, oidc: { ...oidc, operatorClaim: str('TEMPORAL_CODEC_OIDC_OPERATOR_CLAIM') ?? 'groups' } };
}

/** `KEY_PROVIDER=aws-kms`: the key id is required in every environment (there is no generated fallback). */
function readAwsKms(
  read: ConfigReader,
  keyProvider: KeyProviderName,
  nodeEnv: Config['env'],
): Pick<Config['secrets'], 'awsKms'> {
  if (keyProvider !== 'aws-kms') return {};
  const keyId = read.str('AWS_KMS_KEY_ID');
  const region = read.str('AWS_REGION') ?? read.str('AWS_DEFAULT_REGION');
  const endpoint = read.url('AWS_ENDPOINT_URL_KMS', nodeEnv === 'production' ? ['https:'] : ['https:', 'http:']);
  if (!keyId) read.problem('AWS_KMS_KEY_ID is required with KEY_PROVIDER=aws-kms (the KMS key or alias/… of the KEK)');
  if (!region) read.problem('AWS_REGION is required with KEY_PROVIDER=aws-kms');
  if (!keyId || !region) return {};
  if (read.str('KEK_ROTATION_EVERY') !== 'off' && !/^(arn:[^:]+:kms:[^:]*:[^:]*:)?alias\/./.test(keyId)) {
    read.problem(
      'AWS_KMS_KEY_ID must be an alias (alias/…) for KEK rotation to retarget it, or set KEK_ROTATION_EVERY=off',
    );
  }
  return { awsKms: { keyId, region, ...(endpoint ? { endpoint } : {}) } };
}

function readKekRotationEvery(read: ConfigReader): number | undefined {
  const text = read.str('KEK_ROTATION_EVERY') ?? DEFAULT_KEK_ROTATION_EVERY;
  if (text === 'off') return undefined;
  const every = parseDuration(text);
  if (every === undefined || every < MIN_KEK_ROTATION_MS) {
    read.problem(`KEK_ROTATION_EVERY must be a duration of at least 1d such as 90d, or off (got "${text}")`);
    return undefined;
  }
  return every;
}

/** proxy-addr's names for address ranges, accepted in API_TRUST_PROXY besides addresses and CIDRs. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

function isAddressOrCidr(entry: string): boolean {
  if (PROXY_RANGES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * API_TRUST_PROXY: the proxies' addresses/CIDRs, comma-separated. "Trust every hop" is refused:
 * any caller could then pick its own rate-limit bucket with X-Forwarded-For.
 */
function readTrustProxy(read: ConfigReader): string[] | undefined {
  const value = read.str('API_TRUST_PROXY');
  if (value === undefined) return undefined;
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.length > 0 && entries.every(isAddressOrCidr)) return entries;
  read.problem(`API_TRUST_PROXY must list the proxies' addresses or CIDRs, comma-separated (got "${value}")`);
  return undefined;
}

/**
 * Entry-point helper: load the config or print every problem and exit non-zero, never a stack
 * trace.
 */
export function loadConfigOrExit(env?: Env): Config;
export function loadConfigOrExit<T>(env: Env, parse: (read: ConfigReader) => T): T;
export function loadConfigOrExit(env: Env = process.env, parse: (read: ConfigReader) => unknown = readCoreConfig) {
  try {
    return parseConfig(env, parse);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
