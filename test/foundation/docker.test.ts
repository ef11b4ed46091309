/**
 * No Docker engine runs here, so the docker/ folder is checked offline: the compose file parses and
 * wires every service, the app services' environment passes the service's own config validation,
 * and every path the image copies exists in the build context.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../lib/config';

const ROOT = path.resolve(__dirname, '../..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: { context: string; dockerfile: string };
      environment?: Record<string, string>;
      command?: string[];
      depends_on?: Record<string, unknown>;
    }
  >;
};

/** Compose interpolation, enough for `${VAR:-default}` and `${VAR:?message}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_match, name: string, op: string | undefined, arg: string) => {
      if (env[name] !== undefined) return env[name];
      if (op === '-') return arg;
      throw new Error(`compose requires ${name}: ${arg}`);
    },
  );
}

describe('docker/', () => {
  it('compose runs Postgres, Temporal on Postgres, the UI, setup jobs, api and worker, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'db-setup',
      'grafana',
      'postgres',
      'prometheus',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(compose.services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(compose.services.worker!.command).toEqual(['node', '--import', 'tsx', 'workers/main.ts']);
    expect(compose.services.api!.command).toEqual(['node', '--import', 'tsx', 'api/main.ts']);
    for (const app of ['api', 'worker']) {
      expect(Object.keys(compose.services[app]!.depends_on ?? {})).toEqual(
        expect.arrayContaining(['db-setup', 'temporal-setup']),
      );
    }
  });

  it.each(['api', 'worker'])('the %s environment passes the config validation (production mode)', (service) => {
    const required = {
      SECRETS_KEK: Buffer.alloc(32, 7).toString('base64'),
      TEMPORAL_CODEC_KEY: Buffer.alloc(32, 9).toString('base64'),
      JWT_SECRET: 'x'.repeat(40),
    };
    const env = Object.fromEntries(
      Object.entries(compose.services[service]!.environment ?? {}).map(([key, value]) => [
        key,
        interpolate(String(value), required),
      ]),
    );
    const config = loadConfig(env);
    expect(config.env).toBe('production');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(new URL(config.database.appUrl!).username).toBe('integrations_app');
    // Without the secrets, compose itself refuses to start rather than running with defaults.
    expect(() => interpolate(String(compose.services[service]!.environment!.SECRETS_KEK), {})).toThrow(/SECRETS_KEK/);
  });

  it('the image is Debian-based and every COPY source exists in the build context', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm/m); // glibc: the Temporal native bridge has no musl build
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').filter(Boolean);
    const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)].flatMap((m) =>
      m[1]!.trim().split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect([source, fs.existsSync(path.join(ROOT, source))]).toEqual([source, true]);
      expect(ignored).not.toContain(source);
    }
    // Everything the processes import at run time is in the image.
    for (const dir of ['lib', 'db', 'activities', 'workflows', 'workers', 'api']) expect(sources).toContain(dir);
  });
});
