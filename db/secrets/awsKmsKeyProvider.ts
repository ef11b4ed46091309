/**
 * KEKs in AWS KMS (`KEY_PROVIDER=aws-kms`): DEKs come from `GenerateDataKey`, are re-wrapped with
 * `Encrypt` and opened with `Decrypt`, each with `EncryptionContext` = the secret's workspace
 * binding, so KMS refuses to unwrap a DEK for any other workspace or row (and CloudTrail records
 * which workspace each Decrypt was for). The KEK never leaves KMS.
 *
 * `AWS_KMS_KEY_ID` names the KEK; an alias (`alias/…`) is needed for rotation, which creates a new
 * key and points the alias at it: every process then wraps under the new key with no restart, and
 * old keys keep decrypting until the rotation has re-wrapped their DEKs and disables them.
 */
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  ListResourceTagsCommand,
  NotFoundException,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { IntegrityError, KEY_BYTES } from '../../lib/aesGcm';
import {
  UnknownKeyError,
  type DataKey,
  type EncryptionContext,
  type KeyProvider,
  type KeyRetirement,
  type KeyRotation,
  type WrappedKey,
} from './keyProvider';

export interface AwsKmsSettings {
  /** Key id, key ARN, alias name (`alias/…`) or alias ARN. */
  keyId: string;
  region: string;
  /** A KMS-compatible endpoint (an emulator); unset: the region's AWS endpoint. */
  endpoint?: string;
}

/** Tags on a key the rotation created: which rotation made it and which key it replaced. */
const ROTATION_TAG = 'trackproject:rotation';
const REPLACES_TAG = 'trackproject:replaces';

/** `alias/name` of an alias name or alias ARN; undefined for a key id or key ARN. */
export function aliasName(keyId: string): string | undefined {
  const match = /^(?:arn:[^:]+:kms:[^:]*:[^:]*:)?(alias\/.+)$/.exec(keyId);
  return match?.[1];
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`AWS KMS answered without ${what}`);
  return value;
}

export class AwsKmsKeyProvider implements KeyProvider {
  readonly kind = 'aws-kms';

  constructor(
    private readonly settings: AwsKmsSettings,
    private readonly kms: KMSClient = new KMSClient({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    }),
  ) {}

  async currentKeyId(): Promise<string> {
    const { KeyMetadata } = await this.kms.send(new DescribeKeyCommand({ KeyId: this.settings.keyId }));
    return required(KeyMetadata?.Arn, 'a key ARN');
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const answer = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.settings.keyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
    );
    const plaintext = Buffer.from(required(answer.Plaintext, 'a data key'));
    if (plaintext.length !== KEY_BYTES) throw new Error('AWS KMS answered a data key of the wrong size');
    return {
      plaintext,
      keyId: required(answer.KeyId, 'a key id'),
      wrapped: Buffer.from(required(answer.CiphertextBlob, 'a wrapped key')),
    };
  }

  async wrapKey(dek: Buffer, context: EncryptionContext): Promise<WrappedKey> {
    const answer = await this.kms.send(
      new EncryptCommand({ KeyId: this.settings.keyId, Plaintext: dek, EncryptionContext: { ...context } }),
    );
    return {
      keyId: required(answer.KeyId, 'a key id'),
      wrapped: Buffer.from(required(answer.CiphertextBlob, 'a wrapped key')),
    };
  }

  async unwrapKey(keyId: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    try {
      // KeyId pins the key: a blob wrapped by any other key is refused, not silently opened.
      const answer = await this.kms.send(
        new DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: { ...context } }),
      );
      return Buffer.from(required(answer.Plaintext, 'a data key'));
    } catch (error) {
      // A wrong context, a tampered blob and a blob of another key look alike to KMS, and to us.
      if (error instanceof InvalidCiphertextException || error instanceof IncorrectKeyException) {
        throw new IntegrityError('data key');
      }
      if (error instanceof NotFoundException) throw new UnknownKeyError(keyId);
      throw error;
    }
  }

  async rotateKey(rotationId: string): Promise<KeyRotation> {
    const alias = aliasName(this.settings.keyId);
    if (!alias) throw new Error('KEK rotation needs AWS_KMS_KEY_ID to be an alias (alias/…) it can point elsewhere');
    const current = await this.currentKeyId();
    const tags = await this.rotationTags(current);
    // A retry after a crash between UpdateAlias and the caller's record: that rotation is done.
    if (tags.get(ROTATION_TAG) === rotationId)
      return { keyId: current, replacedKeyId: tags.get(REPLACES_TAG) ?? current };
    const created = await this.kms.send(
      new CreateKeyCommand({
        Description: 'TrackProject Integrations: key-encryption key of the secret store',
        KeyUsage: 'ENCRYPT_DECRYPT',
        KeySpec: 'SYMMETRIC_DEFAULT',
        Tags: [
          { TagKey: ROTATION_TAG, TagValue: rotationId },
          { TagKey: REPLACES_TAG, TagValue: current },
        ],
      }),
    );
    const keyId = required(created.KeyMetadata?.Arn, 'the new key ARN');
    await this.kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    return { keyId, replacedKeyId: current };
  }

  /** Disabled, not deleted: reversible with EnableKey; the operator schedules deletion (docs/key-management.md). */
  async retireKey(keyId: string): Promise<KeyRetirement> {
    try {
      // The bare key id (same region as the ARN's): AWS takes either form, some KMS emulators only this one.
      await this.kms.send(new DisableKeyCommand({ KeyId: keyId.replace(/^arn:[^:]+:kms:[^:]*:[^:]*:key\//, '') }));
    } catch (error) {
      if (error instanceof NotFoundException) throw new UnknownKeyError(keyId);
      throw error;
    }
    return 'disabled';
  }

  private async rotationTags(keyId: string): Promise<Map<string, string>> {
    const { Tags } = await this.kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
    return new Map((Tags ?? []).map((tag) => [tag.TagKey ?? '', tag.TagValue ?? '']));
  }
}
