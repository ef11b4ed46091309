/**
 * The layer rules (`.dependency-cruiser.cjs`, run by `npm run lint`) fail on a planted violation:
 * scratch trees with the project's folder names are cruised with the project's rule set through
 * dependency-cruiser's API, one with a violation of every rule and one that keeps them all.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const FOLDERS = [
  'lib',
  'db',
  'activities',
  'workflows',
  'api',
  'workers',
  'dev',
  'scripts',
  'emulators',
  'test',
  'packages',
  'examples',
];

/**
 * dependency-cruiser's API is ESM only, which Jest's module system cannot load: it runs in a Node
 * child. It cruises the given folders of `dir` with the project's rules and options (as
 * `npm run lint:layers` does the repository; the scratch tree has no tsconfig) and prints the violations.
 */
const CRUISE = `
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';
const [dir, ...roots] = process.argv.slice(1);
const { forbidden, options } = createRequire(import.meta.url)('./.dependency-cruiser.cjs');
const { tsConfig, ...rest } = options;
const result = await cruise(roots, { ...rest, baseDir: dir, validate: true, ruleSet: { forbidden } });
console.log(JSON.stringify(result.output.summary.violations.map((v) => v.rule.name + ': ' + v.from + ' → ' + v.to)));
`;

/** Writes `files` (path → source) under a new scratch directory, with the project's node_modules beside them. */
function scratchTree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  for (const [file, source] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), source);
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function violationsOf(dir: string): string[] {
  const roots = FOLDERS.filter((folder) => fs.existsSync(path.join(dir, folder)));
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', CRUISE, dir, ...roots], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return (JSON.parse(output) as string[]).sort();
}

const trees: string[] = [];
afterAll(() => {
  for (const dir of trees) fs.rmSync(dir, { recursive: true, force: true });
});

describe('layer rules', () => {
  it('fire on a planted violation of every rule', () => {
    const dir = scratchTree({
      'lib/a.ts': "import { b } from '../db/b';\nexport const a = b;\n",
      'db/b.ts': "import { x } from '../activities/x';\nexport const b = x;\n",
      'db/c1.ts': "import { c2 } from './c2';\nexport const c1 = () => c2();\n",
      'db/c2.ts': "import { c1 } from './c1';\nexport const c2 = () => c1();\n",
      'activities/x.ts': "import { r } from '../api/r';\nexport const x = r.length;\n",
      'activities/vendors/github/connector.ts': 'export const connector = 1;\n',
      'workflows/w.ts':
        "import { x } from '../activities/x';\nimport crypto from 'node:crypto';\n" +
        "import type { Api } from '../api/r';\nexport const w: Api = x + crypto.randomInt(1);\n",
      'api/r.ts':
        "import { connector } from '../activities/vendors/github/connector';\n" +
        "import { Octokit } from '@octokit/rest';\nexport type Api = number;\nexport const r = [connector, Octokit];\n",
      'workers/main.ts': "import { d } from '../dev/d';\nexport const main = d;\n",
      'dev/d.ts': 'export const d = 1;\n',
      'scripts/s.ts': "import { t } from '../test/t';\nexport const s = t;\n",
      'test/t.ts': 'export const t = 1;\n',
      'packages/client/src/codec.ts': "import { a } from '../../../lib/a';\nexport const codec = a;\n",
      'workflows/v.ts': "import { codec } from '../packages/client/src/codec';\nexport const v = codec;\n",
      'examples/e.ts': "import { b } from '../db/b';\nexport const e = b;\n",
    });
    trees.push(dir);

    const violations = violationsOf(dir);

    expect(violations).toEqual([
      'activities-import-only-db-and-lib: activities/x.ts → api/r.ts',
      'api-no-vendor-connectors: api/r.ts → activities/vendors/github/connector.ts',
      expect.stringMatching(/^api-no-vendor-sdk: api\/r\.ts → node_modules\/@octokit\/rest\//),
      'client-package-is-self-contained: packages/client/src/codec.ts → lib/a.ts',
      'db-imports-only-lib: db/b.ts → activities/x.ts',
      'examples-use-the-client-package: examples/e.ts → db/b.ts',
      'lib-is-the-ground-floor: lib/a.ts → db/b.ts',
      'production-no-cycles: db/c1.ts → db/c2.ts',
      'production-no-development-code: workers/main.ts → dev/d.ts',
      'scripts-no-tests: scripts/s.ts → test/t.ts',
      'workflows-import-types-only: workflows/v.ts → packages/client/src/codec.ts',
      'workflows-import-types-only: workflows/w.ts → activities/x.ts',
      'workflows-import-types-only: workflows/w.ts → crypto',
      'workflows-see-activities-and-lib-only: workflows/w.ts → api/r.ts',
    ]);
  });

  it('pass a tree that keeps them', () => {
    const dir = scratchTree({
      'lib/a.ts': "import path from 'node:path';\nexport const a = path.sep;\n",
      'db/b.ts':
        "import type { Knex } from 'knex';\nimport { a } from '../lib/a';\nexport const b = (k?: Knex) => [a, k];\n",
      'activities/x.ts':
        "import { b } from '../db/b';\nimport { a } from '../lib/a';\nexport const x = () => [a, b()];\n",
      'activities/vendors/types.ts': 'export type VendorId = string;\n',
      'workflows/w.ts':
        "import { sleep } from '@temporalio/workflow';\nimport type { x } from '../activities/x';\n" +
        "import type { a } from '../lib/a';\nexport const w = (_: typeof x, __: typeof a) => sleep(1);\n",
      'api/r.ts':
        "import type { VendorId } from '../activities/vendors/types';\nimport { b } from '../db/b';\n" +
        "import { w } from '../workflows/w';\nexport const r = (v: VendorId) => [v, b(), w];\n",
      'workers/main.ts': "import { x } from '../activities/x';\nexport const main = x;\n",
      'dev/d.ts': "import { r } from '../api/r';\nexport const d = r;\n",
      'scripts/s.ts': "import { d } from '../dev/d';\nexport const s = d;\n",
      'test/t.ts':
        "import { d } from '../dev/d';\nimport { main } from '../workers/main';\nexport const t = [d, main];\n",
      'packages/client/src/definitions.ts':
        "import { defineSignal } from '@temporalio/workflow';\nexport const s = defineSignal('s');\n",
      'packages/client/src/index.ts':
        "import crypto from 'node:crypto';\nexport * from './definitions';\nexport const k = crypto.randomInt(1);\n",
      'workflows/v.ts': "import { s } from '../packages/client/src/definitions';\nexport const v = s;\n",
      'examples/e.ts': "import { s } from '../packages/client/src/index';\nexport const e = s;\n",
    });
    trees.push(dir);

    expect(violationsOf(dir)).toEqual([]);
  });
});
