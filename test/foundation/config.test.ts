import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig, MAX_PURGE_DELAY_MS, parseDuration } from '../../lib/config';

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
      ]);
    }
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
