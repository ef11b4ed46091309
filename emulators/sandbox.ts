/**
 * The offline sandbox (`SANDBOX_VENDORS=true npm start`): starts the vendor emulators with our own
 * app registrations generated on the spot, seeds a little demo data, and returns the environment
 * that points the worker's and the API's connectors at them. Emulator state lives in memory: a
 * restart gives a fresh sandbox (integrations connected before it need a reconnect).
 *
 * A loopback control endpoint (`urls.control`) lets a script outside this process (`npm run demo`)
 * make vendor-side changes the way the vendor would announce them: the change is applied to the
 * emulator and the signed webhook delivery is POSTed to the API's app-level receiver.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { startGithubEmulator, webhookExample, type GithubEmulator } from './github';
import { JIRA_REQUESTED_SCOPES } from '../activities/vendors/jira';
import { startJiraEmulator } from './jira';
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
  for (let n = 1; n <= 25; n++)
    githubEmulator.control.addIssue(DEMO_REPOS[n % 2]!, { title: `Site issue ${n}`, body: 'Sandbox data' });
  // The app is installed on two of the three repositories: the third stays invisible (T18).
  const installationId = githubEmulator.control.install({
    account: 'acme',
    repositories: DEMO_REPOS.slice(0, 2),
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
    users: ['octocat'],
  });

  const microsoft = await startMicrosoftEmulator();

  const jiraApp = {
    clientId: crypto.randomBytes(16).toString('hex'),
    clientSecret: crypto.randomBytes(32).toString('hex'),
  };
  const jira = await startJiraEmulator({
    ...jiraApp,
    redirectUris: [callback('jira')],
    appScopes: [...JIRA_REQUESTED_SCOPES],
  });
  for (const project of ['SITE', 'RFI', 'HR']) jira.control.addProject(project);
  for (let n = 1; n <= 15; n++) jira.control.addIssue(n % 3 === 0 ? 'RFI' : 'SITE', `Punch list item ${n}`);
  const control = await startControlServer(
    githubEmulator,
    installationId,
    `${options.apiPublicUrl}/v1/webhooks/github`,
  );

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
      JIRA_AUTH_URL: jira.url,
      JIRA_API_URL: jira.url,
      JIRA_CLIENT_ID: jiraApp.clientId,
      JIRA_CLIENT_SECRET: jiraApp.clientSecret,
    },
    urls: { github: githubEmulator.url, microsoft: microsoft.url, jira: jira.url, control: control.url },
    async stop() {
      await Promise.all([githubEmulator.stop(), microsoft.stop(), jira.stop(), control.stop()]);
    },
  };
}

/** `POST /github/issues/{owner}/{repo}/{number}/{edited|deleted}` */
const ISSUE_EVENT_PATH = /^\/github\/issues\/([\w.-]+\/[\w.-]+)\/(\d+)\/(edited|deleted)$/;

/**
 * Applies an issue edit or deletion in the GitHub emulator and delivers the signed `issues.*`
 * webhook for the app's installation to the API, as GitHub does. Answers the receiver's status.
 */
async function startControlServer(
  github: GithubEmulator,
  installationId: number,
  webhookUrl: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const deliver = async (fullName: string, number: number, action: 'edited' | 'deleted') => {
    const issue = github.control.issues(fullName).find((item) => item.number === number);
    if (!issue) return { status: 404, body: { detail: `no issue ${fullName}#${number}` } };
    if (action === 'edited') github.control.updateIssue(fullName, number, { title: `${String(issue.title)} (edited)` });
    else await github.control.deleteIssue(fullName, number);
    const payload = webhookExample('issues', action);
    const [owner, name] = fullName.split('/') as [string, string];
    payload.issue = {
      ...(payload.issue as Record<string, unknown>),
      id: issue.id,
      node_id: issue.node_id,
      number,
      title: issue.title,
    };
    payload.repository = {
      ...(payload.repository as Record<string, unknown>),
      name,
      full_name: fullName,
      owner: { login: owner },
    };
    payload.installation = { id: installationId, node_id: `MDIz${installationId}` };
    const deliveryId = crypto.randomUUID();
    const receiverStatus = await github.control.sendWebhook(webhookUrl, { event: 'issues', payload, deliveryId });
    return { status: 200, body: { event: `issues.${action}`, deliveryId, issueId: issue.id, receiverStatus } };
  };

  const server = http.createServer((request, response) => {
    const match = request.method === 'POST' ? ISSUE_EVENT_PATH.exec(request.url ?? '') : null;
    const answer = match
      ? deliver(match[1]!, Number(match[2]), match[3] as 'edited' | 'deleted')
      : Promise.resolve({ status: 404, body: { detail: 'unknown control' } });
    answer
      .catch((error: unknown) => ({
        status: 500,
        body: { detail: error instanceof Error ? error.message : String(error) },
      }))
      .then(({ status, body }) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
