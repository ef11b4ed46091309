/**
 * The offline sandbox (`SANDBOX_VENDORS=true npm start`): starts the vendor emulators with our own
 * app registrations generated on the spot, seeds a little demo data, and returns the environment
 * that points the worker's and the API's connectors at them. Emulator state lives in memory: a
 * restart gives a fresh sandbox (integrations connected before it need a reconnect).
 */
import crypto from 'node:crypto';
import { startGithubEmulator } from './github';
import { startMicrosoftEmulator } from './microsoft';

export interface Sandbox {
  env: Record<string, string>;
  urls: Record<string, string>;
  stop(): Promise<void>;
}

const DEMO_REPOS = ['acme/tower-a', 'acme/tower-b', 'acme/hr-private'];

export async function startSandbox(options: { apiPublicUrl: string }): Promise<Sandbox> {
  const callback = (vendor: string) => `${options.apiPublicUrl}/v1/oauth/callback/${vendor}`;

  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const github = {
    appId: String(100_000 + crypto.randomInt(900_000)),
    clientId: `Iv1.${crypto.randomBytes(8).toString('hex')}`,
    clientSecret: crypto.randomBytes(20).toString('hex'),
    webhookSecret: crypto.randomBytes(20).toString('hex'),
  };
  const githubEmulator = await startGithubEmulator({
    ...github,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    redirectUris: [callback('github')],
  });
  for (const repo of DEMO_REPOS) githubEmulator.control.addRepository(repo);
  for (let n = 1; n <= 25; n++) githubEmulator.control.addIssue(DEMO_REPOS[n % 2]!, { title: `Site issue ${n}`, body: 'Sandbox data' });
  // The app is installed on two of the three repositories: the third stays invisible (T18).
  githubEmulator.control.install({
    account: 'acme',
    repositories: DEMO_REPOS.slice(0, 2),
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
    users: ['octocat'],
  });

  const microsoft = await startMicrosoftEmulator();

  return {
    env: {
      GITHUB_API_URL: githubEmulator.url,
      GITHUB_WEB_URL: githubEmulator.url,
      GITHUB_APP_ID: github.appId,
      GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      GITHUB_WEBHOOK_SECRET: github.webhookSecret,
      MICROSOFT_LOGIN_URL: microsoft.url,
      MICROSOFT_GRAPH_URL: microsoft.url,
      MICROSOFT_TENANT_ID: microsoft.tenantId,
      MICROSOFT_CLIENT_ID: microsoft.clientId,
      MICROSOFT_CLIENT_SECRET: microsoft.clientSecret,
      MICROSOFT_CA_CERT: microsoft.caCert,
    },
    urls: { github: githubEmulator.url, microsoft: microsoft.url },
    async stop() {
      await Promise.all([githubEmulator.stop(), microsoft.stop()]);
    },
  };
}
