/**
 * AES-256-GCM sealing, shared by the local KEK provider (wrapping DEKs) and the secret store
 * (encrypting payloads); the Temporal payload codec has its own, specified in
 * docs/payload-encryption.md. IV and tag sizes are pinned: a truncated tag would otherwise be accepted.
 */
import crypto from 'node:crypto';

export const KEY_BYTES = 32;
/** 96-bit IV: the size GCM is specified for (NIST SP 800-38D); random per encryption. */
export const IV_BYTES = 12;
/** Full 128-bit tag, pinned on decrypt via `authTagLength`. */
export const TAG_BYTES = 16;

export interface Sealed {
  iv: Buffer;
  authTag: Buffer;
  ciphertext: Buffer;
}

/** Raised for every failure to open a sealed value: no detail that could help an attacker or leak data. */
export class IntegrityError extends Error {
  constructor(what: string) {
    super(`${what} failed authentication`);
    this.name = 'IntegrityError';
  }
}

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, authTag: cipher.getAuthTag(), ciphertext };
}

export function open(key: Buffer, sealed: Sealed, aad: Buffer, what: string): Buffer {
  if (sealed.iv.length !== IV_BYTES || sealed.authTag.length !== TAG_BYTES) throw new IntegrityError(what);
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new IntegrityError(what);
  }
}
