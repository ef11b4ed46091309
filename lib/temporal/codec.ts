/**
 * The payload codec's keys (the codec itself is in the client package, which backend services share:
 * `@trackproject/integrations-client/codec`, specified in docs/payload-encryption.md).
 *
 * Keys: TEMPORAL_CODEC_KEY (one base64 key), TEMPORAL_CODEC_KEY_FILE (one base64 key per line; the
 * first encrypts, every key decrypts: rotation without losing old histories) or, in development
 * and tests only, a key generated once into `<dataDir>/temporal-codec-key` (mode 0600).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CODEC_KEY_BYTES as KEY_BYTES } from '@trackproject/integrations-client/codec';
import type { Config } from '../config';

function parseKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${source}: a payload codec key must be 32 bytes, base64-encoded`);
  return key;
}

function readKeyFile(file: string): Buffer[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, index) => parseKey(line, `${path.basename(file)} line ${index + 1}`));
}

/** Development and tests: one random key, created once (exclusive create, owner-only). */
function developmentKeyFile(dataDir: string): string {
  const file = path.join(dataDir, 'temporal-codec-key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, `${crypto.randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process (API or worker) created it first: use theirs, both must share it.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return file;
}

/** The codec keys this process holds, current first. */
export function codecKeysFromConfig(config: Pick<Config, 'env' | 'dataDir' | 'temporal'>): Buffer[] {
  const { codecKey, codecKeyFile } = config.temporal;
  if (codecKey) return [parseKey(codecKey, 'TEMPORAL_CODEC_KEY')];
  if (codecKeyFile) return readKeyFile(codecKeyFile);
  if (config.env === 'production')
    throw new Error('TEMPORAL_CODEC_KEY or TEMPORAL_CODEC_KEY_FILE is required in production');
  return readKeyFile(developmentKeyFile(config.dataDir));
}
