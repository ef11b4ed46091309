export { IntegrityError } from '../../lib/aesGcm';
export { UnknownKeyError, type KeyProvider, type WrappedKey } from './keyProvider';
export { LocalKeyProvider, localKeyId, localKeyProviderFromConfig } from './localKeyProvider';
export { rewrapAll } from './rotation';
export {
  SECRET_KINDS,
  SecretNotFoundError,
  SecretStateError,
  SecretStore,
  type SecretKind,
  type SecretRef,
  type SecretState,
} from './secretStore';
