/**
 * The payload codec: AES-256-GCM over each whole serialized Payload, as specified byte for byte in
 * `docs/payload-encryption.md` (implementable in any language from that page). The Temporal server,
 * its database and the UI only ever see ciphertext.
 *
 * An encrypted payload is `metadata.encoding = binary/encrypted`, `metadata.encryption-key-id` =
 * the key's id, `data = iv (12) ‖ tag (16) ‖ AES-256-GCM(Payload proto)`. The key id is bound as
 * associated data, so a payload relabelled with another key id fails authentication.
 */
import crypto from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA_KEY = 'encryption-key-id';
/** AES-256: keys are 32 random bytes, used as they are (no derivation). */
export const CODEC_KEY_BYTES = 32;
/** 96-bit IV, the size GCM is specified for (NIST SP 800-38D); random per payload. */
export const CODEC_IV_BYTES = 12;
/** Full 128-bit tag, pinned on decrypt: a truncated tag is refused. */
export const CODEC_TAG_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Stable, non-secret id of a codec key: the first 8 bytes of its SHA-256, hex. */
export function codecKeyId(key: Uint8Array): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** `keys[0]` encrypts; every key decrypts (rotation without losing old histories). */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    for (const key of keys) {
      if (key.length !== CODEC_KEY_BYTES) throw new Error('a payload codec key must be 32 bytes');
      this.keys.set(codecKeyId(key), Buffer.from(key));
    }
    this.currentKeyId = codecKeyId(keys[0]!);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const iv = crypto.randomBytes(CODEC_IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: CODEC_TAG_BYTES });
      cipher.setAAD(Buffer.from(this.currentKeyId));
      const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA_KEY]: encoder.encode(this.currentKeyId),
        },
        data: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]),
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
      if (data.length < CODEC_IV_BYTES + CODEC_TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      let plaintext: Buffer;
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, CODEC_IV_BYTES), {
          authTagLength: CODEC_TAG_BYTES,
        });
        decipher.setAAD(Buffer.from(keyId));
        decipher.setAuthTag(data.subarray(CODEC_IV_BYTES, CODEC_IV_BYTES + CODEC_TAG_BYTES));
        plaintext = Buffer.concat([decipher.update(data.subarray(CODEC_IV_BYTES + CODEC_TAG_BYTES)), decipher.final()]);
      } catch (error) {
        throw new ValueError(`encrypted payload (key id ${keyId}) failed authentication: tampered or wrong key`, error);
      }
      return temporal.api.common.v1.Payload.decode(plaintext);
    });
  }
}
