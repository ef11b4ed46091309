/**
 * Key-encryption keys (KEKs) wrap the per-secret data keys (DEKs); the KEK itself never leaves the
 * provider. The shape matches a cloud KMS: `wrapKey` ≈ KMS Encrypt / Cloud KMS encrypt with
 * additional authenticated data (encryption context), `unwrapKey` ≈ Decrypt, `keyId` ≈ the key's
 * ARN or resource name (docs/data-tier.md).
 */
export interface WrappedKey {
  /** Id of the KEK that wrapped this DEK; stored on every secret row. */
  keyId: string;
  wrapped: Buffer;
}

export interface KeyProvider {
  /** The KEK new DEKs are wrapped with. */
  currentKeyId(): string;
  /** Wraps a DEK under the current KEK, binding `aad` (unwrapping with any other `aad` fails). */
  wrapKey(dek: Buffer, aad: Buffer): Promise<WrappedKey>;
  /** Unwraps a DEK with the KEK named `keyId` (old KEKs stay available for unwrap after rotation). */
  unwrapKey(keyId: string, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
}

export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`key-encryption key ${keyId} is not available`);
    this.name = 'UnknownKeyError';
  }
}
