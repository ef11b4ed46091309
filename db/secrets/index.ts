export { IntegrityError } from '../../lib/aesGcm';
export { AwsKmsKeyProvider, aliasName, type AwsKmsSettings } from './awsKmsKeyProvider';
export {
  UnknownKeyError,
  type DataKey,
  type EncryptionContext,
  type KeyProvider,
  type KeyRetirement,
  type KeyRotation,
  type WrappedKey,
} from './keyProvider';
export { keyProviderFromConfig } from './keyProviderFromConfig';
export { LocalKeyProvider, localKeyId, localKeyProviderFromConfig } from './localKeyProvider';
export { MigratingKeyProvider } from './migratingKeyProvider';
export {
  KekChangedError,
  REWRAP_BATCH,
  kekUsage,
  recordRotationEvent,
  rewrapBatch,
  startedRotation,
  type KekUsage,
  type RotationEvent,
} from './rotation';
export {
  SECRET_KINDS,
  SecretNotFoundError,
  SecretStateError,
  SecretStore,
  type SecretKind,
  type SecretRef,
  type SecretState,
} from './secretStore';
