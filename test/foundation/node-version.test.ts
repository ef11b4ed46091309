/**
 * The repository refuses an unsupported Node clearly: `npm test`, `npm start` and `npm run build`
 * start with scripts/check-node.cjs, and `npm ci` checks engines.node (.npmrc engine-strict).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, isSupported, supportedRange } from '../../scripts/check-node.cjs';

const ROOT = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};
const nvmrc = fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim();
const range = supportedRange(manifest.engines.node);

describe('supported Node', () => {
  it('the tests run on the supported line, and .nvmrc pins a release of it', () => {
    expect(check()).toBeUndefined();
    expect(isSupported(process.version, range)).toBe(true);
    expect(isSupported(nvmrc, range)).toBe(true);
  });

  it('an older line, a newer one and a release below the minimum are refused with what to install', () => {
    const [major, minor] = range.minimum;
    for (const version of ['v20.20.2', `v${major! + 2}.0.0`, `v${major}.${minor! - 1}.9`, `v${major! - 1}.99.0`]) {
      expect([version, isSupported(version, range)]).toEqual([version, false]);
      const message = check(version)!;
      expect(message).toContain(`Node ${version} is not supported`);
      expect(message).toContain(manifest.engines.node);
      expect(message).toContain(nvmrc);
    }
    expect(isSupported(`v${major}.${minor! + 1}.0`, range)).toBe(true);
  });

  it('engines.node must be a caret range: anything else is refused rather than guessed', () => {
    expect(() => supportedRange('>=24')).toThrow(/engines.node must read/);
  });

  it('npm test, npm start and npm run build check first; npm ci checks engines (engine-strict)', () => {
    for (const script of ['test', 'start', 'build']) {
      expect(manifest.scripts[script]).toMatch(/^node scripts\/check-node\.cjs && /);
    }
    expect(fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8')).toMatch(/^engine-strict=true$/m);
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/check-node.cjs')], { encoding: 'utf8' });
    expect([run.status, run.stderr]).toEqual([0, '']);
  });
});
