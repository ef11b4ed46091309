/**
 * `@trackproject/integrations-client` as a backend service gets it: built to JavaScript with its own
 * tsconfig (`npm run build:client`), loadable from `dist/` with nothing of the service's code, and
 * its workflow types match what the worker registers.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { IntegrationWorkflows } from '@trackproject/integrations-client';
import { WORKFLOW_PROCESSES, WORKFLOW_TYPES } from '@trackproject/integrations-client';
import * as workflows from '../../workflows';

const PACKAGE = path.resolve(__dirname, '../../packages/client');
const DIST = path.join(PACKAGE, 'dist');
const MAIN = path.join(
  PACKAGE,
  (JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { main: string }).main,
);

/** Every `.js` file under `dir`. */
const jsFiles = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : [],
    );

describe('@trackproject/integrations-client', () => {
  it('the workflow types are the signatures of the workflows the worker registers, one for each', () => {
    // Fails `tsc` when a workflow's input or result drifts from the package's declaration.
    const implemented: IntegrationWorkflows = workflows;
    expect(Object.keys(implemented).sort()).toEqual([...WORKFLOW_TYPES].sort());
    for (const type of Object.keys(WORKFLOW_PROCESSES)) expect(WORKFLOW_TYPES).toContain(type);
  });

  it('builds to JavaScript and declarations that import only their own files and packages, and works from dist/', () => {
    fs.rmSync(DIST, { recursive: true, force: true });
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', path.join(PACKAGE, 'tsconfig.build.json')],
      {
        stdio: 'pipe',
      },
    );
    const built = jsFiles(DIST);
    expect(built.map((f) => path.relative(DIST, f)).sort()).toEqual([
      'client.js',
      'codec.js',
      'dataConverter.js',
      'definitions.js',
      'failureConverter.js',
      'index.js',
      'priority.js',
      'searchAttributes.js',
      'workflows.js',
    ]);
    for (const file of [...built, ...built.map((f) => f.replace(/\.js$/, '.d.ts'))]) {
      const specifiers = [...fs.readFileSync(file, 'utf8').matchAll(/(?:require\(|from )["']([^"']+)["']/g)].map(
        (m) => m[1]!,
      );
      const escaping = specifiers.filter(
        (s) => s.startsWith('.') && !path.resolve(path.dirname(file), s).startsWith(`${DIST}${path.sep}`),
      );
      expect([path.relative(DIST, file), escaping]).toEqual([path.relative(DIST, file), []]);
    }
    // A fresh Node process loads the built package by its entry point: encrypts, decrypts, builds ids,
    // and loads no file of the service (only dist/ and node_modules).
    const script = `
      const crypto = require('node:crypto');
      const pkg = require(${JSON.stringify(MAIN)});
      const codec = new pkg.EncryptionCodec([crypto.randomBytes(32)]);
      const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"a":1}') };
      codec.encode([payload]).then(codec.decode.bind(codec)).then(([back]) => {
        const outside = Object.keys(require.cache).filter((f) => !f.startsWith(${JSON.stringify(DIST)}) && !f.includes('/node_modules/'));
        process.stdout.write(JSON.stringify({
          data: Buffer.from(back.data).toString(),
          id: pkg.workflowIds.sync('w', 'i'),
          queue: pkg.DEFAULT_TASK_QUEUE,
          converter: typeof pkg.createDataConverter([crypto.randomBytes(32)]).failureConverterPath,
          client: typeof pkg.createIntegrationsClient,
          outside,
        }));
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: PACKAGE, encoding: 'utf8' }));
    expect(out).toEqual({
      data: '{"a":1}',
      id: 'integration/w/i/sync',
      queue: 'integrations',
      converter: 'string',
      client: 'function',
      outside: [],
    });
  }, 120_000);
});
