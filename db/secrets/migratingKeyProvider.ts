/**
 * Moving from the local KEK to a KMS (`KEY_PROVIDER=aws-kms` with `SECRETS_KEK[_FILE]` still set):
 * new DEKs are wrapped by the KMS, DEKs under a local key keep opening with it, and the next KEK
 * rotation re-wraps them onto the KMS key and reports the local key `unused`, after which the
 * operator removes it from the configuration.
 */
import type { DataKey, EncryptionContext, KeyProvider, KeyRetirement, KeyRotation, WrappedKey } from './keyProvider';
import type { LocalKeyProvider } from './localKeyProvider';

export class MigratingKeyProvider implements KeyProvider {
  readonly kind: string;

  constructor(
    private readonly primary: KeyProvider,
    private readonly previous: LocalKeyProvider,
  ) {
    this.kind = primary.kind;
  }

  currentKeyId(): Promise<string> {
    return this.primary.currentKeyId();
  }

  generateDataKey(context: EncryptionContext): Promise<DataKey> {
    return this.primary.generateDataKey(context);
  }

  wrapKey(dek: Buffer, context: EncryptionContext): Promise<WrappedKey> {
    return this.primary.wrapKey(dek, context);
  }

  unwrapKey(keyId: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    return (this.previous.holds(keyId) ? this.previous : this.primary).unwrapKey(keyId, wrapped, context);
  }

  rotateKey(rotationId: string): Promise<KeyRotation> {
    return this.primary.rotateKey(rotationId);
  }

  retireKey(keyId: string): Promise<KeyRetirement> {
    return (this.previous.holds(keyId) ? this.previous : this.primary).retireKey(keyId);
  }
}
