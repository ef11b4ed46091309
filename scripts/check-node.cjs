/**
 * Refuses an unsupported Node before anything else runs (`npm test`, `npm start`, `npm run build`).
 * Plain CommonJS, no dependency: it must run on any Node, including the ones it refuses.
 * The supported line is `engines.node` (`^<major>.<minor>.<patch>`), the one the Temporal SDK supports;
 * `.nvmrc` names the exact release CI, the image and version managers use.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** `^24.11.0` → { major: 24, minimum: [24, 11, 0] }; anything else is a mistake in package.json. */
function supportedRange(range) {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (!match) throw new Error(`package.json engines.node must read ^<major>.<minor>.<patch>, not "${range}"`);
  const minimum = match.slice(1).map(Number);
  return { major: minimum[0], minimum };
}

function isSupported(version, range) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  if (parts[0] !== range.major) return false;
  for (let i = 1; i < 3; i++) if (parts[i] !== range.minimum[i]) return parts[i] > range.minimum[i];
  return true;
}

function check(version = process.version) {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const range = manifest.engines.node;
  if (isSupported(version, supportedRange(range))) return undefined;
  const pinned = fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim();
  return (
    `Node ${version} is not supported: this project needs Node ${range} (the LTS line the Temporal SDK supports; ` +
    `.nvmrc pins ${pinned}). Install it with your version manager (nvm install), or put the one CI uses on PATH: ` +
    `export PATH="$(scripts/install-node.sh):$PATH"\n`
  );
}

module.exports = { check, isSupported, supportedRange };

if (require.main === module) {
  const problem = check();
  if (problem) {
    process.stderr.write(problem);
    process.exit(1);
  }
}
