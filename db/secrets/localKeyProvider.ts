/**
 * KEKs held by this process: from SECRETS_KEK (one base64 key), SECRETS_KEK_FILE (one base64 key
 * per line, the first is current, the others are kept to unwrap DEKs not yet re-wrapped), or, in
 * development and tests only, a key generated once into `<dataDir>/secrets-kek` (mode 0600).
 *
 * A wrapped DEK is `iv (12) ‖ tag (16) ‖ encrypted DEK (32)`, AES-256-GCM under the KEK.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { IV_BYTES, KEY_BYTES, TAG_BYTES, open, seal } from '../../lib/aesGcm';
import { UnknownKeyError, type KeyProvider, type WrappedKey } from './keyProvider';

/** Stable, non-secret id of a local KEK: a truncated SHA-256 of the key (64 bits: collision-free at our key counts). */
export function localKeyId(kek: Buffer): string {
  return `local:${crypto.createHash('sha256').update(kek).digest('hex').slice(0, 16)}`;
}

export class LocalKeyProvider implements KeyProvider {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: string;

  /** `keks[0]` wraps new DEKs; every key unwraps. */
  constructor(keks: Buffer[]) {
    if (keks.length === 0) throw new Error('LocalKeyProvider needs at least one key');
    for (const kek of keks) {
      if (kek.length !== KEY_BYTES) throw new Error('a key-encryption key must be 32 bytes');
      this.keys.set(localKeyId(kek), Buffer.from(kek));
    }
    this.current = localKeyId(keks[0]!);
  }

  currentKeyId(): string {
    return this.current;
  }

  async wrapKey(dek: Buffer, aad: Buffer): Promise<WrappedKey> {
    const sealed = seal(this.keys.get(this.current)!, dek, aad);
    return { keyId: this.current, wrapped: Buffer.concat([sealed.iv, sealed.authTag, sealed.ciphertext]) };
  }

  async unwrapKey(keyId: string, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const kek = this.keys.get(keyId);
    if (!kek) throw new UnknownKeyError(keyId);
    const sealed = {
      iv: wrapped.subarray(0, IV_BYTES),
      authTag: wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
      ciphertext: wrapped.subarray(IV_BYTES + TAG_BYTES),
    };
    return open(kek, sealed, aad, 'data key');
  }
}

function decodeKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${source}: a key-encryption key must be 32 bytes, base64-encoded`);
  return key;
}

function readKeyFile(file: string): Buffer[] {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return lines.map((line, index) => decodeKey(line, `${path.basename(file)} line ${index + 1}`));
}

/** Development and tests: one random KEK, created once (exclusive create, owner-only). */
function developmentKeyFile(dataDir: string): string {
  const file = path.join(dataDir, 'secrets-kek');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, `${crypto.randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return file;
}

export function localKeyProviderFromConfig(config: Pick<Config, 'env' | 'dataDir' | 'secrets'>): LocalKeyProvider {
  if (config.secrets.localKek) return new LocalKeyProvider([decodeKey(config.secrets.localKek, 'SECRETS_KEK')]);
  if (config.secrets.localKekFile) return new LocalKeyProvider(readKeyFile(config.secrets.localKekFile));
  if (config.env === 'production') throw new Error('SECRETS_KEK or SECRETS_KEK_FILE is required in production');
  return new LocalKeyProvider(readKeyFile(developmentKeyFile(config.dataDir)));
}
