/**
 * Which npm packages a module loads: it is required in a fresh Node process (through tsx, as
 * `npm run api` runs it) that reports its module cache, so nothing this test process already
 * loaded can hide or add a package.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = path.resolve(__dirname, '../..');

/** `…/node_modules/@scope/name/dist/x.js` → `@scope/name`; the innermost node_modules wins. */
export function packageOf(modulePath: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = modulePath.lastIndexOf(marker);
  if (at < 0) return undefined;
  const [first, second] = modulePath.slice(at + marker.length).split(path.sep);
  return first?.startsWith('@') ? `${first}/${second}` : first;
}

export async function loadedPackages(modulePath: string): Promise<Set<string>> {
  const script = `require(${JSON.stringify(path.resolve(REPO_ROOT, modulePath))});
process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const paths = JSON.parse(stdout) as string[];
  return new Set(paths.map(packageOf).filter((name): name is string => name !== undefined));
}
