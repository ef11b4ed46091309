/**
 * KEKs held by this process (`KEY_PROVIDER=local`): from SECRETS_KEK (one base64 key),
 * SECRETS_KEK_FILE (one base64 key per line, the first is current, the others are kept to unwrap
 * DEKs not yet re-wrapped), or, in development and tests only, a key generated once into
 * `<dataDir>/secrets-kek` (mode 0600).
 *
 * A wrapped DEK is `iv (12) ‖ tag (16) ‖ encrypted DEK (32)`, AES-256-GCM under the KEK, with the
 * encryption context as AAD. This provider cannot mint KEKs (they are configuration): its rotation
 * re-wraps onto the key configured first, and the operator removes the old lines afterwards.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { IV_BYTES, KEY_BYTES, TAG_BYTES, open, seal } from '../../lib/aesGcm';
import {
  UnknownKeyError,
  type DataKey,
  type EncryptionContext,
  type KeyProvider,
  type KeyRetirement,
  type KeyRotation,
  type WrappedKey,
} from './keyProvider';

/** Stable, non-secret id of a local KEK: a truncated SHA-256 of the key (64 bits: collision-free at our key counts). */
export function localKeyId(kek: Buffer): string {
  return `local:${crypto.createHash('sha256').update(kek).digest('hex').slice(0, 16)}`;
}

/** The context as AAD: sorted entries, so the same context always gives the same bytes. */
export function contextAad(context: EncryptionContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(['trackproject-kek/v1', entries]), 'utf8');
}

export class LocalKeyProvider implements KeyProvider {
  readonly kind = 'local';
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

  async currentKeyId(): Promise<string> {
    return this.current;
  }

  /** Whether `keyId` names one of this provider's keys. */
  holds(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const plaintext = crypto.randomBytes(KEY_BYTES);
    return { plaintext, ...(await this.wrapKey(plaintext, context)) };
  }

  async wrapKey(dek: Buffer, context: EncryptionContext): Promise<WrappedKey> {
    const sealed = seal(this.keys.get(this.current)!, dek, contextAad(context));
    return { keyId: this.current, wrapped: Buffer.concat([sealed.iv, sealed.authTag, sealed.ciphertext]) };
  }

  async unwrapKey(keyId: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    const kek = this.keys.get(keyId);
    if (!kek) throw new UnknownKeyError(keyId);
    const sealed = {
      iv: wrapped.subarray(0, IV_BYTES),
      authTag: wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
      ciphertext: wrapped.subarray(IV_BYTES + TAG_BYTES),
    };
    return open(kek, sealed, contextAad(context), 'data key');
  }

  /** The next KEK is whatever the operator configured first: nothing to mint here. */
  async rotateKey(): Promise<KeyRotation> {
    return { keyId: this.current, replacedKeyId: this.current };
  }

  /** A configured key cannot be disabled from here: the operator drops its line from SECRETS_KEK_FILE. */
  async retireKey(keyId: string): Promise<KeyRetirement> {
    if (!this.holds(keyId)) throw new UnknownKeyError(keyId);
    return 'unused';
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

export function localKeyProviderFromConfig(
  config: Pick<Config, 'env' | 'dataDir'> & { secrets: Pick<Config['secrets'], 'localKek' | 'localKekFile'> },
): LocalKeyProvider {
  if (config.secrets.localKek) return new LocalKeyProvider([decodeKey(config.secrets.localKek, 'SECRETS_KEK')]);
  if (config.secrets.localKekFile) return new LocalKeyProvider(readKeyFile(config.secrets.localKekFile));
  if (config.env === 'production') throw new Error('SECRETS_KEK or SECRETS_KEK_FILE is required in production');
  return new LocalKeyProvider(readKeyFile(developmentKeyFile(config.dataDir)));
}
