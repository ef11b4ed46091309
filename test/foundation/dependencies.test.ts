/**
 * Dependency hygiene, read from the sources: every runtime dependency is imported by the service (the
 * production image installs `dependencies` only: one the service does not load belongs in
 * devDependencies), and the service imports nothing the image lacks. Type-only imports are erased, so
 * they need no runtime package.
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** What the production image runs: the service, the database scripts its setup job starts, its health check. */
const PRODUCTION_SOURCES = [
  'api',
  'workers',
  'workflows',
  'activities',
  'db',
  'lib',
  'packages/client/src',
  'scripts/db-bootstrap.ts',
  'scripts/db-migrate.ts',
  'scripts/healthcheck.ts',
];
/**
 * Dev tooling that `npm start`, the sandbox, the demo, `npm run build` and `npm run tools`/`token` run
 * after a full `npm ci`: it may also use devDependencies. It wins over PRODUCTION_SOURCES for paths in both.
 */
const DEV_TOOL_SOURCES = [
  'dev',
  'emulators',
  'scripts/build.ts',
  'scripts/start.ts',
  'scripts/demo.ts',
  'scripts/tools.ts',
  'scripts/token.ts',
];

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const runtimeDependencies = new Set(Object.keys(manifest.dependencies));
const declared = new Set([...runtimeDependencies, ...Object.keys(manifest.devDependencies)]);
const builtins = new Set(builtinModules);

function sourceFiles(relative: string): string[] {
  const full = path.join(ROOT, relative);
  if (!fs.statSync(full).isDirectory()) return [relative];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? sourceFiles(path.join(relative, entry.name))
        : /\.(ts|js|mjs|cjs)$/.test(entry.name)
          ? [path.join(relative, entry.name)]
          : [],
    );
}

const within = (file: string, source: string) => file === source || file.startsWith(`${source}/`);

/** Every source file with the role it plays; tests, benchmarks and configs play none here. */
function classifiedFiles(): { file: string; role: 'production' | 'dev-tool' }[] {
  const files = new Set([...PRODUCTION_SOURCES, ...DEV_TOOL_SOURCES].flatMap(sourceFiles));
  return [...files].map((file) => ({
    file,
    role: DEV_TOOL_SOURCES.some((source) => within(file, source)) ? 'dev-tool' : 'production',
  }));
}

/** npm package name of a bare specifier (`@scope/name/sub` → `@scope/name`); undefined for relative and builtins. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtins.has(name) ? undefined : name;
}

/** Packages a file loads at run time: static value imports and re-exports, side-effect imports, `import()`, `require()`. */
function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [
    ...[
      ...code.matchAll(
        /^\s*(?:import|export)\s+(type\s+)?(?:[\w$*\s,]*\{[^}]*\}|[\w$*\s,]+?)\s*from\s*['"]([^'"]+)['"]/gm,
      ),
    ]
      .filter((match) => !match[1])
      .map((match) => match[2]!),
    ...[...code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)].map((match) => match[1]!),
    ...[...code.matchAll(/(?<!typeof\s)\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((match) => match[1]!),
  ];
  return [...new Set(specifiers.flatMap((specifier) => packageOf(specifier) ?? []))];
}

const imports = classifiedFiles().map(({ file, role }) => ({
  file,
  role,
  packages: runtimeImports(fs.readFileSync(path.join(ROOT, file), 'utf8')),
}));

describe('dependencies', () => {
  it('the import scanner sees value imports, re-exports, side effects, import() and require(), not types', () => {
    const source = [
      "import { a } from 'pkg-a';",
      "import type { B } from 'pkg-b';",
      "import {\n  c,\n  type C,\n} from '@scope/pkg-c/sub';",
      "export { d } from 'pkg-d';",
      "export type { E } from 'pkg-e';",
      "import 'pkg-f';",
      "const g = await import('pkg-g');",
      "const h = require('pkg-h');",
      "type I = typeof import('pkg-i');",
      "/** import { j } from 'pkg-j'; */",
      "import fs from 'node:fs';",
      "import path from 'path';",
      "import { k } from '../k';",
    ].join('\n');
    expect(runtimeImports(source).sort()).toEqual(['@scope/pkg-c', 'pkg-a', 'pkg-d', 'pkg-f', 'pkg-g', 'pkg-h']);
  });

  it('every runtime dependency is imported by production source (what only tooling uses is a devDependency)', () => {
    const used = new Set(imports.filter(({ role }) => role === 'production').flatMap(({ packages }) => packages));
    expect([...runtimeDependencies].filter((name) => !used.has(name))).toEqual([]);
  });

  it('production source imports only runtime dependencies (the image installs nothing else)', () => {
    const missing = imports
      .filter(({ role }) => role === 'production')
      .flatMap(({ file, packages }) =>
        packages.filter((name) => !runtimeDependencies.has(name)).map((name) => `${file}: ${name}`),
      );
    expect(missing).toEqual([]);
  });

  it('dev-tool source imports only packages package.json declares (nothing merely hoisted)', () => {
    const undeclared = imports
      .filter(({ role }) => role === 'dev-tool')
      .flatMap(({ file, packages }) =>
        packages.filter((name) => !declared.has(name)).map((name) => `${file}: ${name}`),
      );
    expect(undeclared).toEqual([]);
  });
});
