/**
 * Payload encryption for everything we hand to Temporal: workflow and activity inputs and results,
 * signals, updates, queries, memos and (with the failure converter of `dataConverter.ts`) failure
 * messages and stack traces. The Temporal server, its database and the UI only ever see
 * ciphertext; the UI decodes through our authenticated codec endpoint (`api/routes/codec.ts`).
 *
 * An encrypted payload is `metadata.encoding = binary/encrypted`, `metadata.encryption-key-id` =
 * the key's id, `data = iv (12) ‖ tag (16) ‖ AES-256-GCM(Payload proto)`. The key id is bound as
 * associated data, so a payload relabelled with another key id fails authentication.
 *
 * Keys: TEMPORAL_CODEC_KEY (one base64 key), TEMPORAL_CODEC_KEY_FILE (one base64 key per line; the
 * first encrypts, every key decrypts: rotation without losing old histories) or, in development
 * and tests only, a key generated once into `<dataDir>/temporal-codec-key` (mode 0600).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { IV_BYTES, KEY_BYTES, TAG_BYTES, open, seal } from '../aesGcm';
import type { Config } from '../config';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA_KEY = 'encryption-key-id';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Stable, non-secret id of a codec key: the first 8 bytes of its SHA-256, hex. */
export function codecKeyId(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** `keys[0]` encrypts; every key decrypts. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    for (const key of keys) {
      if (key.length !== KEY_BYTES) throw new Error('a payload codec key must be 32 bytes');
      this.keys.set(codecKeyId(key), Buffer.from(key));
    }
    this.currentKeyId = codecKeyId(keys[0]!);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    const aad = Buffer.from(this.currentKeyId);
    return payloads.map((payload) => {
      const plaintext = Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish());
      const sealed = seal(key, plaintext, aad);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA_KEY]: encoder.encode(this.currentKeyId),
        },
        data: Buffer.concat([sealed.iv, sealed.authTag, sealed.ciphertext]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      // Payloads written before encryption was enabled (or by a codec-less client) pass through.
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID_METADATA_KEY];
      if (!keyIdBytes) throw new ValueError('encrypted payload has no encryption-key-id');
      const keyId = decoder.decode(keyIdBytes);
      const key = this.keys.get(keyId);
      if (!key) throw new ValueError(`encrypted payload uses unknown key id ${keyId}`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      const sealed = {
        iv: data.subarray(0, IV_BYTES),
        authTag: data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
        ciphertext: data.subarray(IV_BYTES + TAG_BYTES),
      };
      let plaintext: Buffer;
      try {
        plaintext = open(key, sealed, Buffer.from(keyId), 'encrypted payload');
      } catch (error) {
        throw new ValueError(`encrypted payload (key id ${keyId}) failed authentication: tampered or wrong key`, error);
      }
      return temporal.api.common.v1.Payload.decode(plaintext);
    });
  }
}

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
