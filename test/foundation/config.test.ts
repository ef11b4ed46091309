import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  ConfigError,
  DEFAULT_WORKER_SHUTDOWN_GRACE_MS,
  loadConfig,
  MAX_PURGE_DELAY_MS,
  parseDuration,
} from '../../lib/config';
import { shutdownGraceProblem } from '../../workers/shutdown';
import { tracingTarget } from '../../lib/tracing';

const ROOT = path.resolve(__dirname, '../..');

describe('configuration', () => {
  it('has working defaults for the embedded quick start', () => {
    const config = loadConfig({});
    expect(config.temporal.address).toBeUndefined(); // → embedded dev server
    expect(config.database.url).toBeUndefined(); // → embedded Postgres
    expect(config.api.port).toBe(3000);
    expect(config.temporal.devServer).toEqual({ port: 7233, uiPort: 8233 });
    expect(config.purgeDelayMs).toBe(MAX_PURGE_DELAY_MS);
  });

  it('lists every problem at once, without echoing secrets', () => {
    let error: unknown;
    try {
      loadConfig({
        API_PORT: '70000',
        LOG_LEVEL: 'loud',
        TEMPORAL_ADDRESS: 'http://x/y',
        DATABASE_URL: 'mysql://user:hunter2-canary@db/x',
        SECRETS_KEK: 'c2hvcnQ=',
        JWT_SECRET: 'short',
        PURGE_DELAY: '45d',
        SANDBOX_VENDORS: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(8);
    for (const name of [
      'API_PORT',
      'LOG_LEVEL',
      'TEMPORAL_ADDRESS',
      'DATABASE_URL',
      'SECRETS_KEK',
      'JWT_SECRET',
      'PURGE_DELAY',
      'SANDBOX_VENDORS',
    ]) {
      expect(problems.filter((p) => p.startsWith(name))).toHaveLength(1);
    }
    expect((error as Error).message).not.toContain('hunter2-canary');
  });

  it('metrics endpoints are off by default and take ip:port; a host name or a bare port is refused', () => {
    expect(loadConfig({}).metrics).toEqual({ workerAddress: undefined, apiAddress: undefined });
    expect(loadConfig({ METRICS_WORKER_ADDRESS: '0.0.0.0:9464', METRICS_API_ADDRESS: '[::1]:9465' }).metrics).toEqual({
      workerAddress: '0.0.0.0:9464',
      apiAddress: '[::1]:9465',
    });
    expect(() => loadConfig({ METRICS_WORKER_ADDRESS: 'localhost:9464' })).toThrow(
      /METRICS_WORKER_ADDRESS must be ip:port/,
    );
    expect(() => loadConfig({ METRICS_API_ADDRESS: '9465' })).toThrow(/METRICS_API_ADDRESS must be ip:port/);
  });

  it('T25 traces: the OTLP endpoint is off by default and takes an http(s) URL; anything else is refused without echoing it', () => {
    expect(loadConfig({}).tracing).toEqual({ otlpEndpoint: undefined });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).tracing).toEqual({
      otlpEndpoint: 'http://otel-collector:4318',
    });
    const secretish = 'grpc://user:pa55word@collector:4317';
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: secretish })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: secretish })).not.toThrow(/pa55word/);
    // Start-up lines name where spans go, never the URL's credentials.
    expect(tracingTarget('https://user:pa55word@collector.example/otlp/')).toBe(
      'https://collector.example/otlp/v1/traces',
    );
    expect(tracingTarget(undefined)).toBe('off');
  });

  it('T15: refuses a purge delay above 30 days', () => {
    expect(() => loadConfig({ PURGE_DELAY: '31d' })).toThrow(/PURGE_DELAY must not exceed 30d/);
    expect(loadConfig({ PURGE_DELAY: '12h' }).purgeDelayMs).toBe(12 * 3_600_000);
  });

  it('production refuses embedded defaults and generated keys', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (e) {
      expect((e as ConfigError).problems.map((p) => p.split(' ')[0])).toEqual([
        'TEMPORAL_ADDRESS',
        'DATABASE_URL',
        'SECRETS_KEK',
        'TEMPORAL_CODEC_KEY',
        'JWT_JWKS_URL',
        'DATABASE_APP_URL',
      ]);
    }
  });

  it('WORKER_SHUTDOWN_GRACE is a duration, 75 s by default; the worker refuses one shorter than a data-out action', () => {
    expect(loadConfig({}).workerShutdownGraceMs).toBe(DEFAULT_WORKER_SHUTDOWN_GRACE_MS);
    expect(loadConfig({ WORKER_SHUTDOWN_GRACE: '2m' }).workerShutdownGraceMs).toBe(120_000);
    expect(() => loadConfig({ WORKER_SHUTDOWN_GRACE: 'soon' })).toThrow(/WORKER_SHUTDOWN_GRACE must be a duration/);
    expect(shutdownGraceProblem(DEFAULT_WORKER_SHUTDOWN_GRACE_MS)).toBeUndefined();
    expect(shutdownGraceProblem(loadConfig({ WORKER_SHUTDOWN_GRACE: '30s' }).workerShutdownGraceMs)).toMatch(
      /at least 60s/,
    );
  });

  it("WORKER_CACHED_WORKFLOWS: unset leaves the SDK's heap-derived default; a value must be a positive integer", () => {
    expect(loadConfig({}).workerCachedWorkflows).toBeUndefined();
    expect(loadConfig({ WORKER_CACHED_WORKFLOWS: '800' }).workerCachedWorkflows).toBe(800);
    expect(() => loadConfig({ WORKER_CACHED_WORKFLOWS: '0' })).toThrow(
      /WORKER_CACHED_WORKFLOWS must be a positive integer/,
    );
    expect(() => loadConfig({ WORKER_CACHED_WORKFLOWS: 'lots' })).toThrow(
      /WORKER_CACHED_WORKFLOWS must be a positive integer/,
    );
  });

  it('T20 T23: production requires the runtime login URL and an https JWKS URL', () => {
    const production = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://owner:pw@db/integrations',
      SECRETS_KEK: Buffer.alloc(32, 7).toString('base64'),
      TEMPORAL_CODEC_KEY: Buffer.alloc(32, 9).toString('base64'),
      JWT_JWKS_URL: 'http://idp.example/.well-known/jwks.json',
    };
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems(production)).toEqual([
      'JWT_JWKS_URL must use https: in production',
      'DATABASE_APP_URL is required in production (the runtime login, never the owner of DATABASE_URL)',
    ]);
    const fixed = {
      ...production,
      JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      DATABASE_APP_URL: 'postgres://app:pw@db/integrations',
    };
    expect(loadConfig(fixed).database.appUrl).toBe(fixed.DATABASE_APP_URL);
    // Outside production a local http JWKS (an emulator) stays allowed.
    expect(loadConfig({ JWT_JWKS_URL: production.JWT_JWKS_URL }).auth.jwksUrl).toBe(production.JWT_JWKS_URL);
  });

  it('T25: the local codec shortcut is development only and loopback only; the IdP codec path needs https in production', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(loadConfig({ TEMPORAL_CODEC_LOCAL_DEV: 'true' }).temporal.codecAuth).toEqual({ localDev: true });
    expect(loadConfig({}).temporal.codecAuth).toEqual({ localDev: false });
    const production = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://owner:pw@db/integrations',
      DATABASE_APP_URL: 'postgres://app:pw@db/integrations',
      SECRETS_KEK: Buffer.alloc(32, 7).toString('base64'),
      TEMPORAL_CODEC_KEY: Buffer.alloc(32, 9).toString('base64'),
      JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      API_PUBLIC_URL: 'https://integrations.example',
      TEMPORAL_UI_URL: 'https://temporal.example',
    };
    expect(problems({ ...production, TEMPORAL_CODEC_LOCAL_DEV: 'true' })).toEqual([
      'TEMPORAL_CODEC_LOCAL_DEV is for development only: production decodes only for IdP operators',
    ]);
    expect(problems({ API_HOST: '0.0.0.0', TEMPORAL_CODEC_LOCAL_DEV: 'true' })).toEqual([
      'TEMPORAL_CODEC_LOCAL_DEV needs API_HOST on loopback (127.0.0.1, ::1 or localhost)',
    ]);
    const oidc = {
      TEMPORAL_CODEC_OIDC_JWKS_URL: 'https://login.example/keys',
      TEMPORAL_CODEC_OIDC_ISSUER: 'https://login.example/',
      TEMPORAL_CODEC_OIDC_AUDIENCE: 'temporal-ui',
      TEMPORAL_CODEC_OIDC_OPERATOR_VALUE: 'temporal-operators',
    };
    expect(loadConfig({ ...production, ...oidc }).temporal.codecAuth).toEqual({
      localDev: false,
      oidc: {
        jwksUrl: oidc.TEMPORAL_CODEC_OIDC_JWKS_URL,
        issuer: oidc.TEMPORAL_CODEC_OIDC_ISSUER,
        audience: 'temporal-ui',
        operatorClaim: 'groups',
        operatorValue: 'temporal-operators',
      },
    });
    expect(
      problems({
        ...production,
        ...oidc,
        TEMPORAL_CODEC_OIDC_JWKS_URL: 'http://login.example/keys',
        API_PUBLIC_URL: 'http://integrations.example',
      }),
    ).toEqual([
      'TEMPORAL_CODEC_OIDC_JWKS_URL must use https: (got "http:")',
      'API_PUBLIC_URL must use https: in production when TEMPORAL_CODEC_OIDC_* is set (the codec endpoint)',
    ]);
    expect(problems({ TEMPORAL_CODEC_OIDC_ISSUER: 'https://login.example/' })[0]).toMatch(
      /Temporal codec OIDC app is partly configured/,
    );
  });

  it('T23: caps token lifetime at 24h by default; JWT_MAX_LIFETIME changes it and must be a duration', () => {
    expect(loadConfig({}).auth.maxLifetimeMs).toBe(24 * 3_600_000);
    expect(loadConfig({ JWT_MAX_LIFETIME: '1h' }).auth.maxLifetimeMs).toBe(3_600_000);
    expect(() => loadConfig({ JWT_MAX_LIFETIME: 'forever' })).toThrow(/JWT_MAX_LIFETIME must be a duration/);
    expect(() => loadConfig({ JWT_MAX_LIFETIME: '0s' })).toThrow(/JWT_MAX_LIFETIME must be a duration/);
  });

  it('parses durations', () => {
    expect(parseDuration('30d')).toBe(MAX_PURGE_DELAY_MS);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it.each(['api/main.ts', 'workers/main.ts'])(
    '%s exits non-zero with one message and no stack trace on bad config',
    (entry) => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
        env: { PATH: process.env.PATH, API_PORT: 'abc', LOG_LEVEL: 'loud' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toContain('Invalid configuration');
      expect(result.stderr).toMatch(/API_PORT[\s\S]*LOG_LEVEL/);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    },
  );
});
