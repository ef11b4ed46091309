/**
 * `npm run build`: the production build. Compiles the service to JavaScript in `dist/`
 * (tsconfig.build.json: the production folders and the database scripts, nothing of dev/, emulators/
 * or test/) and bundles the workflows once into `dist/workflow-bundle.js`, which the compiled worker
 * loads instead of bundling at every start.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/config';
import { bundleWorkflows, WORKFLOW_BUNDLE_FILE } from '../workers/createWorker';

const DIST = path.join(REPO_ROOT, 'dist');

function compile(): void {
  fs.rmSync(DIST, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0)
    throw new Error(`tsc -p tsconfig.build.json failed (exit ${result.status ?? result.signal})`);
}

/**
 * The workspace package the compiled service imports (`@trackproject/integrations-client`) resolves
 * to its own dist/ (tsconfig.build.json empties `paths`, which point the type check and tests at its
 * sources), so it is compiled first.
 */
function compileClientPackage(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'packages/client/tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0)
    throw new Error(`the client package's build failed (exit ${result.status ?? result.signal})`);
}

async function main(): Promise<void> {
  const started = Date.now();
  compileClientPackage();
  compile();
  const { code } = await bundleWorkflows();
  fs.writeFileSync(path.join(DIST, WORKFLOW_BUNDLE_FILE), code);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`dist/ built in ${seconds} s (workflow bundle: ${(code.length / 1024).toFixed(0)} KiB)\n`);
}

main().catch((error) => {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
