/**
 * Key-encryption keys (KEKs) wrap the per-secret data keys (DEKs); the KEK itself never leaves the
 * provider. The shape is a cloud KMS's (docs/key-management.md): `generateDataKey` ≈ KMS
 * GenerateDataKey, `wrapKey` ≈ Encrypt, `unwrapKey` ≈ Decrypt, each bound to an encryption context
 * (the secret's workspace binding) that must be presented again to unwrap; `keyId` ≈ the key's ARN
 * or resource name. Key ids are not secret: they are stored on every row, logged and carried in
 * workflow histories; key material never is.
 */

/**
 * What a wrapped DEK is bound to: AWS KMS `EncryptionContext`, Google Cloud KMS
 * `additionalAuthenticatedData`, AES-GCM AAD for the local and Azure providers. Ids only, never
 * secrets: AWS writes the context to CloudTrail in clear.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

export interface WrappedKey {
  /** Id of the KEK (version) that wrapped this DEK; stored on every secret row. */
  keyId: string;
  wrapped: Buffer;
}

export interface DataKey extends WrappedKey {
  /** The plaintext DEK: the caller zeroes it after use. */
  plaintext: Buffer;
}

/** What `rotateKey` did: the KEK new DEKs are now wrapped with, and the one it replaced. */
export interface KeyRotation {
  keyId: string;
  /** The KEK that was current before; equal to `keyId` when the provider cannot mint keys itself. */
  replacedKeyId: string;
}

/**
 * What `retireKey` did with a KEK no DEK uses any more: `disabled` at the KMS (reversible there
 * until the operator deletes it), or `unused` when only configuration holds it (the operator
 * removes it from the key file).
 */
export type KeyRetirement = 'disabled' | 'unused';

export interface KeyProvider {
  /** `local` or `aws-kms`: logged and recorded with each rotation. */
  readonly kind: string;
  /** The KEK new DEKs are wrapped with now. */
  currentKeyId(): Promise<string>;
  /** A fresh 256-bit DEK and its wrap under the current KEK, bound to `context`. */
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  /** Wraps an existing DEK under the current KEK (re-wrapping during a rotation). */
  wrapKey(dek: Buffer, context: EncryptionContext): Promise<WrappedKey>;
  /** Unwraps a DEK with the KEK named `keyId`; any other `context` than the one it was wrapped with fails. */
  unwrapKey(keyId: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
  /**
   * Makes a new KEK version current (AWS: a new key behind the alias). Idempotent per
   * `rotationId`: a retry after a crash returns the rotation already made instead of another key.
   */
  rotateKey(rotationId: string): Promise<KeyRotation>;
  /** Takes a KEK out of use once no DEK is wrapped by it any more. */
  retireKey(keyId: string): Promise<KeyRetirement>;
}

export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`key-encryption key ${keyId} is not available`);
    this.name = 'UnknownKeyError';
  }
}
