/** The configured key provider (`KEY_PROVIDER`), for the API and the worker alike. */
import type { Config } from '../../lib/config';
import { AwsKmsKeyProvider } from './awsKmsKeyProvider';
import type { KeyProvider } from './keyProvider';
import { localKeyProviderFromConfig } from './localKeyProvider';
import { MigratingKeyProvider } from './migratingKeyProvider';

export function keyProviderFromConfig(config: Pick<Config, 'env' | 'dataDir' | 'secrets'>): KeyProvider {
  if (config.secrets.keyProvider === 'local') return localKeyProviderFromConfig(config);
  // Config validation refuses aws-kms without a key id and region, so this is only a guard.
  if (!config.secrets.awsKms) throw new Error('KEY_PROVIDER=aws-kms needs AWS_KMS_KEY_ID and AWS_REGION');
  const kms = new AwsKmsKeyProvider(config.secrets.awsKms);
  // Local keys still configured: DEKs they wrap keep opening until a rotation moves them to KMS.
  const { localKek, localKekFile } = config.secrets;
  return localKek || localKekFile ? new MigratingKeyProvider(kms, localKeyProviderFromConfig(config)) : kms;
}
