/**
 * The AWS KMS key provider against a real KMS emulator (moto_server, see test/support/motoServer.ts):
 * the secret store's DEKs come from GenerateDataKey and open with Decrypt only under the same
 * workspace binding (EncryptionContext); rotation puts a new key behind the alias.
 */
import crypto from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Knex } from 'knex';
import {
  AwsKmsKeyProvider,
  IntegrityError,
  SecretStore,
  aliasName,
  keyProviderFromConfig,
  localKeyId,
  LocalKeyProvider,
  MigratingKeyProvider,
  rewrapBatch,
} from '../../db/secrets';
import { ConfigError, loadConfig } from '../../lib/config';
import { runtimeDb, superuserDb } from '../support/db';
import { startMotoKms, type MotoKms } from '../support/motoServer';
import { createIsolatedDatabase, seedIntegration } from '../support/isolatedDatabase';

async function createAliasedKey(kms: KMSClient): Promise<{ alias: string; arn: string }> {
  const created = await kms.send(new CreateKeyCommand({ Description: 'test KEK' }));
  const alias = `alias/trackproject-test-${crypto.randomUUID()}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata!.KeyId! }));
  return { alias, arn: created.KeyMetadata!.Arn! };
}

const context = (workspaceId: string) => ({
  purpose: 'trackproject-secret/v1',
  workspace_id: workspaceId,
  integration_id: crypto.randomUUID(),
  secret_id: crypto.randomUUID(),
  kind: 'oauth-tokens',
  version: '1',
});

describe('T6 T7 T8: AWS KMS key provider against the moto KMS emulator', () => {
  let moto: MotoKms;
  let kms: KMSClient;
  let worker: Knex;
  let superuser: Knex;

  beforeAll(async () => {
    moto = await startMotoKms();
    kms = moto.client();
    worker = runtimeDb('worker');
    superuser = superuserDb();
  }, 300_000);
  afterAll(async () => {
    kms?.destroy();
    await Promise.all([moto?.stop(), worker?.destroy(), superuser?.destroy()]);
  });

  const provider = (keyId: string) =>
    new AwsKmsKeyProvider({ keyId, region: moto.region, endpoint: moto.endpoint }, kms);

  it('T6: secrets round-trip through GenerateDataKey and Decrypt; rows carry the key ARN and a KMS blob, never the DEK', async () => {
    const { alias, arn } = await createAliasedKey(kms);
    const keys = provider(alias);
    expect(await keys.currentKeyId()).toBe(arn);
    const store = new SecretStore(worker, keys);
    const { workspaceId, integrationId } = await seedIntegration(superuser);
    const { secretId } = await store.put({
      workspaceId,
      integrationId,
      kind: 'oauth-tokens',
      plaintext: 'kms-wrapped-token',
      state: 'current',
    });
    expect((await store.read(workspaceId, secretId)).toString()).toBe('kms-wrapped-token');
    const row = await superuser('secrets').where({ secret_id: secretId }).first('kek_id', 'wrapped_dek');
    expect(row.kek_id).toBe(arn);
    // Moto's blob, like AWS's, names the key and carries IV, tag and the encrypted 32-byte DEK.
    expect(row.wrapped_dek.length).toBeGreaterThan(32);
  });

  it('T7: a DEK wrapped for one workspace does not unwrap under another workspace context, nor under another key', async () => {
    const { alias } = await createAliasedKey(kms);
    const keys = provider(alias);
    const bound = context(crypto.randomUUID());
    const dek = await keys.generateDataKey(bound);
    expect(dek.plaintext).toHaveLength(32);
    expect(await keys.unwrapKey(dek.keyId, dek.wrapped, bound)).toEqual(dek.plaintext);
    await expect(
      keys.unwrapKey(dek.keyId, dek.wrapped, { ...bound, workspace_id: crypto.randomUUID() }),
    ).rejects.toBeInstanceOf(IntegrityError);
    await expect(
      keys.unwrapKey(dek.keyId, dek.wrapped, { ...bound, secret_id: crypto.randomUUID() }),
    ).rejects.toBeInstanceOf(IntegrityError);
    const flipped = Buffer.from(dek.wrapped);
    flipped[flipped.length - 1]! ^= 1;
    await expect(keys.unwrapKey(dek.keyId, flipped, bound)).rejects.toBeInstanceOf(IntegrityError);
    // Decrypt pins the key id: a blob presented as another key's is refused.
    const other = await createAliasedKey(kms);
    await expect(keys.unwrapKey(other.arn, dek.wrapped, bound)).rejects.toThrow();
    dek.plaintext.fill(0);
  });

  it('T7: through the store, key material copied to another workspace row fails to open', async () => {
    const { alias } = await createAliasedKey(kms);
    const store = new SecretStore(worker, provider(alias));
    const a = await seedIntegration(superuser);
    const b = await seedIntegration(superuser);
    const put = (ws: { workspaceId: string; integrationId: string }, plaintext: string) =>
      store.put({ ...ws, kind: 'oauth-tokens', plaintext, state: 'current' });
    const source = await put(a, 'workspace-a-token');
    const victim = await put(b, 'workspace-b-token');
    const material = await superuser('secrets')
      .where({ secret_id: source.secretId })
      .first('kek_id', 'wrapped_dek', 'iv', 'auth_tag', 'ciphertext');
    await superuser('secrets').where({ secret_id: victim.secretId }).update(material);
    await expect(store.read(b.workspaceId, victim.secretId)).rejects.toBeInstanceOf(IntegrityError);
    expect((await store.read(a.workspaceId, source.secretId)).toString()).toBe('workspace-a-token');
  });

  it('T8: rotateKey puts a new key behind the alias, once per rotation id; old DEKs still open; a retired key is disabled', async () => {
    const { alias, arn: first } = await createAliasedKey(kms);
    const keys = provider(alias);
    const bound = context(crypto.randomUUID());
    const before = await keys.generateDataKey(bound);
    const rotation = await keys.rotateKey('maintenance/kek-rotation/run-1');
    expect(rotation.replacedKeyId).toBe(first);
    expect(rotation.keyId).not.toBe(first);
    expect(await keys.currentKeyId()).toBe(rotation.keyId);
    // A retry of the same rotation (a crash after UpdateAlias) makes no second key.
    expect(await keys.rotateKey('maintenance/kek-rotation/run-1')).toEqual(rotation);
    const after = await keys.wrapKey(before.plaintext, bound);
    expect(after.keyId).toBe(rotation.keyId);
    expect(await keys.unwrapKey(before.keyId, before.wrapped, bound)).toEqual(before.plaintext);
    expect(await keys.unwrapKey(after.keyId, after.wrapped, bound)).toEqual(before.plaintext);
    expect(await keys.retireKey(first)).toBe('disabled');
    const described = await kms.send(new DescribeKeyCommand({ KeyId: first }));
    expect(described.KeyMetadata?.KeyState).toBe('Disabled');
    // A second rotation replaces the key the first one made.
    expect((await keys.rotateKey('maintenance/kek-rotation/run-2')).replacedKeyId).toBe(rotation.keyId);
    before.plaintext.fill(0);
  });

  it('T6 T8: moving from the local KEK to KMS: old DEKs keep opening, new ones go to KMS, a re-wrap moves the rest and the local key ends unused', async () => {
    const isolated = await createIsolatedDatabase('kmsmove');
    try {
      const localKek = new LocalKeyProvider([crypto.randomBytes(32)]);
      const ws = await seedIntegration(isolated.superuser);
      const put = (store: SecretStore, plaintext: string) =>
        store.put({ ...ws, kind: 'oauth-tokens', plaintext, state: 'pending' });
      const old = await put(new SecretStore(isolated.worker, localKek), 'written-under-the-local-kek');
      const { alias, arn } = await createAliasedKey(kms);
      const keys = new MigratingKeyProvider(provider(alias), localKek);
      const store = new SecretStore(isolated.worker, keys);
      expect((await store.read(ws.workspaceId, old.secretId)).toString()).toBe('written-under-the-local-kek');
      const fresh = await put(store, 'written-under-kms');
      const kekOf = async (secretId: string) =>
        (await isolated.superuser('secrets').where({ secret_id: secretId }).first('kek_id')).kek_id;
      expect(await kekOf(fresh.secretId)).toBe(arn);
      expect(await rewrapBatch(isolated.worker, keys, { rotationId: 'test/move', targetKeyId: arn })).toEqual({
        rewrapped: 1,
        remaining: 0,
      });
      expect(await kekOf(old.secretId)).toBe(arn);
      // KMS alone now opens everything; the local key wraps nothing and is reported unused.
      const kmsOnly = new SecretStore(isolated.worker, provider(alias));
      expect((await kmsOnly.read(ws.workspaceId, old.secretId)).toString()).toBe('written-under-the-local-kek');
      expect(await keys.retireKey(await localKek.currentKeyId())).toBe('unused');
    } finally {
      await isolated.drop();
    }
  });

  it('rotation needs an alias: a bare key id cannot be retargeted', async () => {
    const { arn } = await createAliasedKey(kms);
    await expect(provider(arn).rotateKey('r')).rejects.toThrow(/alias/);
    expect(aliasName('alias/x')).toBe('alias/x');
    expect(aliasName('arn:aws:kms:eu-west-1:123456789012:alias/x')).toBe('alias/x');
    expect(aliasName(arn)).toBeUndefined();
  });
});

describe('key provider configuration', () => {
  const production = {
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: 'temporal:7233',
    DATABASE_URL: 'postgres://o:p@db/integrations',
    DATABASE_APP_URL: 'postgres://a:p@db/integrations',
    TEMPORAL_CODEC_KEY: crypto.randomBytes(32).toString('base64'),
    JWT_JWKS_URL: 'https://idp.example/jwks',
  };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('production refuses KEY_PROVIDER=aws-kms without a key id or region, and an emulator endpoint over http', () => {
    expect(problems({ ...production, KEY_PROVIDER: 'aws-kms', AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:5000' })).toEqual(
      [
        'AWS_ENDPOINT_URL_KMS must use https: (got "http:")',
        'AWS_KMS_KEY_ID is required with KEY_PROVIDER=aws-kms (the KMS key or alias/… of the KEK)',
        'AWS_REGION is required with KEY_PROVIDER=aws-kms',
      ],
    );
    expect(problems({ ...production, KEY_PROVIDER: 'vault' })).toEqual([
      'KEY_PROVIDER must be one of local, aws-kms (got "vault")',
      'SECRETS_KEK or SECRETS_KEK_FILE is required in production (no generated development key)',
    ]);
    // The local KEK is not required when the KEK lives in KMS.
    expect(
      problems({ ...production, KEY_PROVIDER: 'aws-kms', AWS_KMS_KEY_ID: 'alias/secrets', AWS_REGION: 'eu-west-1' }),
    ).toEqual([]);
    expect(problems(production)).toContain(
      'SECRETS_KEK or SECRETS_KEK_FILE is required in production (no generated development key)',
    );
  });

  it('rotation needs an alias and a cadence of at least a day; off turns the schedule off', () => {
    const aws = { KEY_PROVIDER: 'aws-kms', AWS_REGION: 'eu-west-1' };
    expect(problems({ ...aws, AWS_KMS_KEY_ID: '1234abcd-12ab-34cd-56ef-1234567890ab' })).toEqual([
      'AWS_KMS_KEY_ID must be an alias (alias/…) for KEK rotation to retarget it, or set KEK_ROTATION_EVERY=off',
    ]);
    expect(
      problems({ ...aws, AWS_KMS_KEY_ID: '1234abcd-12ab-34cd-56ef-1234567890ab', KEK_ROTATION_EVERY: 'off' }),
    ).toEqual([]);
    expect(problems({ KEK_ROTATION_EVERY: '1h' })).toEqual([
      'KEK_ROTATION_EVERY must be a duration of at least 1d such as 90d, or off (got "1h")',
    ]);
    expect(loadConfig({}).secrets.kekRotationEveryMs).toBe(90 * 24 * 60 * 60 * 1000);
    expect(loadConfig({ KEK_ROTATION_EVERY: 'off' }).secrets.kekRotationEveryMs).toBeUndefined();
  });

  it('KEY_PROVIDER selects the provider', async () => {
    const kek = crypto.randomBytes(32);
    const local = keyProviderFromConfig(loadConfig({ SECRETS_KEK: kek.toString('base64') }));
    expect(local).toBeInstanceOf(LocalKeyProvider);
    expect(await local.currentKeyId()).toBe(localKeyId(kek));
    const aws = keyProviderFromConfig(
      loadConfig({ KEY_PROVIDER: 'aws-kms', AWS_KMS_KEY_ID: 'alias/secrets', AWS_REGION: 'eu-west-1' }),
    );
    expect(aws).toBeInstanceOf(AwsKmsKeyProvider);
    expect(aws.kind).toBe('aws-kms');
    // Local keys still configured beside KMS: they keep unwrapping what they wrapped.
    const moving = keyProviderFromConfig(
      loadConfig({
        KEY_PROVIDER: 'aws-kms',
        AWS_KMS_KEY_ID: 'alias/secrets',
        AWS_REGION: 'eu-west-1',
        SECRETS_KEK: kek.toString('base64'),
      }),
    );
    expect(moving).toBeInstanceOf(MigratingKeyProvider);
    expect(moving.kind).toBe('aws-kms');
  });
});
