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
import { startAutodeskEmulator } from './autodesk';
import { startGithubEmulator, webhookExample, type GithubEmulator } from './github';
import { BUILT_FAMILIES, type BuiltFamily } from '../activities/vendors/catalog';
import { JIRA_REQUESTED_SCOPES } from '../activities/vendors/jira';
import { startGoogleEmulator } from './google';
import { startJiraEmulator } from './jira';
import { startMicrosoftEmulator } from './microsoft';
import { startProcoreEmulator } from './procore';
import { SLACK_SCOPES } from '../activities/vendors/slack';
import { startSlackEmulator } from './slack';
import { startOktaEmulator } from './okta';
import { startSapEmulator } from './sap';
import { startOracleErpEmulator } from './oracle-erp';
import { startPrimaveraEmulator } from './primavera-p6';
import type { SamlServiceProvider } from './shared/samlIdp';
import { samlAcsUrl, samlEntityId } from '../activities/vendors/shared/samlServiceProvider';

export interface Sandbox {
  env: Record<string, string>;
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/** One vendor's emulator in the sandbox: the env that points our connectors at it, its URLs, its stop. */
type SandboxEntry = (context: { apiPublicUrl: string; callback(vendor: string): string }) => Promise<Sandbox>;

/** Each sandbox GitHub account's repositories; the app is installed on the first two (the third stays invisible, T18). */
const DEMO_REPO_NAMES = ['tower-a', 'tower-b', 'hr-private'];

/** A GitHub account of the sandbox with its demo repositories, issues and the app's installation. */
export interface SandboxGithubAccount {
  account: string;
  /** The repositories the app is installed on. */
  repositories: string[];
  installationId: number;
}

function addGithubAccount(emulator: GithubEmulator, account: string, owner: string): SandboxGithubAccount {
  const names = DEMO_REPO_NAMES.map((name) => `${account}/${name}`);
  for (const repo of names) emulator.control.addRepository(repo);
  for (let n = 1; n <= 25; n++)
    emulator.control.addIssue(names[n % 2]!, { title: `Site issue ${n}`, body: 'Sandbox data' });
  const repositories = names.slice(0, 2);
  const installationId = emulator.control.install({
    account,
    repositories,
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
    users: [owner],
    owners: [owner],
  });
  return { account, repositories, installationId };
}

/** GitHub, with the demo's control endpoint that edits or deletes an issue and delivers its webhook. */
async function githubSandbox({ apiPublicUrl, callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const github = {
    appId: String(100_000 + crypto.randomInt(900_000)),
    clientId: `Iv1.${crypto.randomBytes(8).toString('hex')}`,
    clientSecret: crypto.randomBytes(20).toString('hex'),
    webhookSecret: crypto.randomBytes(20).toString('hex'),
    appSlug: 'trackproject-sandbox',
  };
  const emulator = await startGithubEmulator({
    ...github,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    redirectUris: [callback('github')],
    setupUrl: `${apiPublicUrl}/v1/oauth/setup/github`,
  });
  // The default browser user's account: `npm start` users and the demo connect it.
  const acme = addGithubAccount(emulator, 'acme', 'octocat');
  const control = await startControlServer(emulator, acme, `${apiPublicUrl}/v1/webhooks/github`);
  return {
    env: {
      GITHUB_API_URL: emulator.url,
      GITHUB_WEB_URL: emulator.url,
      GITHUB_APP_ID: github.appId,
      GITHUB_APP_SLUG: github.appSlug,
      GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      GITHUB_WEBHOOK_SECRET: github.webhookSecret,
    },
    urls: { github: emulator.url, control: control.url },
    stop: async () => void (await Promise.all([emulator.stop(), control.stop()])),
  };
}

/**
 * Graph, like the real one, delivers change notifications to https only: an API whose public URL is
 * http (`npm start`'s default) gets an https front with the emulator's certificate, as a tunnel or
 * TLS proxy would give it, and the connector subscribes with the front's URL.
 */
async function microsoftSandbox({ apiPublicUrl }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const emulator = await startMicrosoftEmulator({ saml: samlApp(apiPublicUrl) });
  const front = apiPublicUrl.startsWith('http:') ? await emulator.httpsFront(new URL(apiPublicUrl).origin) : undefined;
  return {
    env: {
      MICROSOFT_LOGIN_URL: emulator.url,
      MICROSOFT_GRAPH_URL: emulator.url,
      MICROSOFT_TENANT_ID: emulator.tenantId,
      MICROSOFT_CLIENT_ID: emulator.clientId,
      MICROSOFT_CLIENT_SECRET: emulator.clientSecret,
      MICROSOFT_CA_CERT: emulator.caCert,
      ...(front ? { MICROSOFT_NOTIFICATION_URL: front.url } : {}),
    },
    urls: {
      microsoft: emulator.url,
      entraSamlMetadata: emulator.samlMetadataUrl,
      ...(front ? { microsoftNotifications: front.url } : {}),
    },
    stop: () => emulator.stop(),
  };
}

async function jiraSandbox({ callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const app = {
    clientId: crypto.randomBytes(16).toString('hex'),
    clientSecret: crypto.randomBytes(32).toString('hex'),
  };
  const emulator = await startJiraEmulator({
    ...app,
    redirectUris: [callback('jira')],
    appScopes: [...JIRA_REQUESTED_SCOPES],
  });
  for (const project of ['SITE', 'RFI', 'HR']) emulator.control.addProject(project);
  for (let n = 1; n <= 15; n++) emulator.control.addIssue(n % 3 === 0 ? 'RFI' : 'SITE', `Punch list item ${n}`);
  return {
    env: {
      JIRA_AUTH_URL: emulator.url,
      JIRA_API_URL: emulator.url,
      JIRA_CLIENT_ID: app.clientId,
      JIRA_CLIENT_SECRET: app.clientSecret,
    },
    urls: { jira: emulator.url },
    stop: () => emulator.stop(),
  };
}

/** Procore: one company with three projects (the admin selects some; the rest must stay unrequested, T18). */
async function procoreSandbox({ callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const app = {
    clientId: crypto.randomBytes(16).toString('hex'),
    clientSecret: crypto.randomBytes(32).toString('hex'),
  };
  const emulator = await startProcoreEmulator({ ...app, redirectUris: [callback('procore')] });
  const [tower, depot] = ['Tower A', 'Depot', 'Head office fit-out'].map((name) => emulator.control.addProject(name));
  for (let n = 1; n <= 12; n++)
    emulator.control.addItem(n % 2 ? tower!.id : depot!.id, 'rfis', {
      number: String(n),
      subject: `RFI ${n}`,
      status: 'open',
    });
  for (let n = 1; n <= 4; n++)
    emulator.control.addItem(tower!.id, 'drawings', { number: `A-10${n}`, title: `Level ${n} plan`, discipline: 'A' });
  return {
    env: {
      PROCORE_AUTH_URL: emulator.url,
      PROCORE_API_URL: emulator.url,
      PROCORE_CLIENT_ID: app.clientId,
      PROCORE_CLIENT_SECRET: app.clientSecret,
    },
    urls: { procore: emulator.url },
    stop: () => emulator.stop(),
  };
}

/**
 * Google: the signed-in Workspace user of `acme.example` has a project folder and three drawings;
 * two drawings and the folder are picked for the app (their ids are in `urls`, what the web app's
 * Picker would hand the API), the third stays invisible to it (drive.file, T18).
 */
async function googleSandbox({ callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const emulator = await startGoogleEmulator({
    redirectUris: [callback('google-drive'), callback('google-workspace')],
  });
  const folder = emulator.control.addFolder('Tower A exports');
  const drawings = ['A-101 plan.pdf', 'A-201 section.pdf', 'HR salaries.xlsx'].map((name) =>
    emulator.control.addFile({ name }),
  );
  const picked = [folder, drawings[0]!, drawings[1]!];
  emulator.control.pick(picked);
  return {
    env: {
      GOOGLE_ACCOUNTS_URL: emulator.url,
      GOOGLE_OAUTH2_URL: emulator.url,
      GOOGLE_API_URL: emulator.url,
      GOOGLE_CLIENT_ID: emulator.clientId,
      GOOGLE_CLIENT_SECRET: emulator.clientSecret,
    },
    urls: { google: emulator.url, googlePickedFiles: picked.join(','), googleExportFolder: folder },
    stop: () => emulator.stop(),
  };
}

/**
 * Slack: a PKCE app with token rotation, installed in one workspace whose bot was invited to two of
 * its channels (a third it was not, an archived one is not listed). Events go to the API's one
 * Request URL, as they would from Slack.
 */
async function slackSandbox({ callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const app = {
    clientId: `${crypto.randomInt(1e9)}.${crypto.randomInt(1e9)}`,
    clientSecret: crypto.randomBytes(16).toString('hex'),
    signingSecret: crypto.randomBytes(16).toString('hex'),
  };
  const emulator = await startSlackEmulator({
    ...app,
    redirectUris: [callback('slack')],
    appScopes: [...SLACK_SCOPES],
  });
  emulator.control.addChannel('site-updates');
  emulator.control.addChannel('safety');
  emulator.control.addChannel('general', { botIsMember: false });
  emulator.control.addChannel('old-project', { archived: true });
  return {
    env: {
      SLACK_API_URL: emulator.apiUrl,
      SLACK_WEB_URL: emulator.url,
      SLACK_CLIENT_ID: app.clientId,
      SLACK_CLIENT_SECRET: app.clientSecret,
      SLACK_SIGNING_SECRET: app.signingSecret,
    },
    urls: { slack: emulator.url },
    stop: () => emulator.stop(),
  };
}

/**
 * The SAML app a customer's admin sets up for us at the IdP (Okta's SAML app, Entra ID's enterprise
 * application), from our SP metadata: the IdP then signs assertions for our entity id and ACS.
 */
function samlApp(apiPublicUrl: string): SamlServiceProvider {
  return { audience: samlEntityId(apiPublicUrl), acsUrl: samlAcsUrl(apiPublicUrl) };
}

/**
 * One customer's Okta org with the OIDC app it registered for us (a public client: its id is all
 * the admin gives us, as the `client-id` control). The org is on loopback http, so the connector
 * is told to accept that domain and scheme.
 */
async function oktaSandbox({ apiPublicUrl, callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const emulator = await startOktaEmulator({ redirectUris: [callback('okta')], saml: samlApp(apiPublicUrl) });
  return {
    env: { OKTA_ORG_DOMAINS: new URL(emulator.url).hostname, OKTA_ALLOW_HTTP: 'true' },
    urls: { okta: emulator.url, oktaClientId: emulator.clientId, oktaSamlMetadata: emulator.samlMetadataUrl },
    stop: () => emulator.stop(),
  };
}

/**
 * Autodesk (APS): one hub with three projects and a few documents and issues, and two Tandem
 * facilities; the admin selects some projects or a facility (the rest must stay unrequested, T18).
 * The three rows share the app; its callback URLs are registered for each.
 */
async function autodeskSandbox({ callback }: Parameters<SandboxEntry>[0]): Promise<Sandbox> {
  const app = {
    clientId: crypto.randomBytes(16).toString('hex'),
    clientSecret: crypto.randomBytes(32).toString('hex'),
  };
  const emulator = await startAutodeskEmulator({
    ...app,
    redirectUris: [callback('autodesk-acc'), callback('autodesk-docs'), callback('autodesk-tandem')],
  });
  const hub = emulator.control.addHub('Acme Construction');
  const [tower, depot] = ['Tower A', 'Depot', 'Head office fit-out'].map((name) =>
    emulator.control.addProject(hub, name),
  );
  for (const [project, names] of [
    [tower!, ['Tower A.rvt', 'A-101 Level 1.pdf', 'A-102 Level 2.dwg']],
    [depot!, ['Depot.nwd', 'S-201 Foundations.pdf']],
  ] as const)
    for (const name of names) await emulator.control.addDocument(project.id, project.topFolders[0]!, name);
  for (let n = 1; n <= 6; n++) emulator.control.addIssue(n % 2 ? tower!.id : depot!.id, `Punch item ${n}`);
  // Tandem: the plant room's facility has our app as a service; the second does not yet.
  const plant = emulator.control.addFacility('Tower A plant room', { service: true });
  emulator.control.addFacility('Depot twin');
  for (const name of ['AHU-01', 'Chiller-02', 'Pump-03'])
    emulator.control.addAsset(plant.id, name, { 'z:5Q': 'Running' });
  return {
    env: { APS_API_URL: emulator.url, APS_CLIENT_ID: app.clientId, APS_CLIENT_SECRET: app.clientSecret },
    urls: {
      autodesk: emulator.url,
      autodeskHub: hub,
      autodeskProjects: [tower!.id, depot!.id].join(','),
      autodeskFacility: plant.id,
    },
    stop: () => emulator.stop(),
  };
}

/**
 * One customer's S/4HANA tenant with a communication user for both services (what the admin submits
 * as the credential, `urls.sapCredential`), a few purchase orders and deliveries. The tenant is on
 * loopback http, so the connector is told to accept that host and scheme.
 */
async function sapSandbox(): Promise<Sandbox> {
  const emulator = await startSapEmulator();
  const user = emulator.control.addUser();
  for (let n = 1; n <= 6; n++) emulator.control.addPurchaseOrder({ Supplier: `1730000${n}` });
  for (let n = 1; n <= 4; n++) emulator.control.addDelivery();
  return {
    env: { SAP_API_DOMAINS: new URL(emulator.url).hostname, SAP_ALLOW_HTTP: 'true' },
    urls: { sap: emulator.url, sapCredential: JSON.stringify({ url: emulator.url, ...user }) },
    stop: () => emulator.stop(),
  };
}

/**
 * One customer's Oracle ERP Cloud pod with an integration user holding both duty roles, a few
 * suppliers and their purchase orders. The pod is on loopback http, so the connector is told to
 * accept that host and scheme. The user and its generated password are what the admin submits.
 */
async function oracleErpSandbox(): Promise<Sandbox> {
  const emulator = await startOracleErpEmulator();
  const password = crypto.randomBytes(12).toString('base64url');
  emulator.control.addUser('trackproject.integration', password);
  for (const name of ['Northwind Steel', 'Contoso Concrete', 'Fabrikam Glazing']) {
    const supplier = emulator.control.add('suppliers', {
      Supplier: name,
      SupplierNumber: name.slice(0, 3).toUpperCase(),
      Status: 'ACTIVE',
    });
    for (let n = 1; n <= 3; n++)
      emulator.control.add('purchaseOrders', {
        OrderNumber: `PO-${supplier.id % 1000}-${n}`,
        Supplier: name,
        SupplierId: supplier.id,
        Status: 'OPEN',
        Total: 1000 * n,
        CurrencyCode: 'USD',
      });
  }
  return {
    env: { ORACLE_ERP_HOSTS: new URL(emulator.url).hostname, ORACLE_ERP_ALLOW_HTTP: 'true' },
    urls: { oracleErp: emulator.url, oracleErpUser: 'trackproject.integration', oracleErpPassword: password },
    stop: () => emulator.stop(),
  };
}

/**
 * One customer's P6 EPPM server with a service account that sees two of its three projects (OBS),
 * each with a few activities and a baseline. Loopback http, as for Oracle ERP.
 */
async function primaveraSandbox(): Promise<Sandbox> {
  const emulator = await startPrimaveraEmulator();
  const password = crypto.randomBytes(12).toString('base64url');
  const projects = ['Tower A', 'Depot', 'Head office fit-out'].map((name, i) =>
    emulator.control.add('project', { Id: `P-${i + 1}`, Name: name, Status: 'Active' }),
  );
  for (const project of projects) {
    for (let n = 1; n <= 4; n++)
      emulator.control.add('activity', {
        Id: `A${n}0`,
        Name: `${String(project.fields.Name)} activity ${n}`,
        ProjectObjectId: project.ObjectId,
        Status: 'Not Started',
      });
    emulator.control.add('baselineProject', {
      Id: `${String(project.fields.Id)}-B1`,
      Name: 'Original plan',
      OriginalProjectObjectId: project.ObjectId,
    });
  }
  emulator.control.addUser('trackproject.p6', password, { projects: [projects[0]!.ObjectId, projects[1]!.ObjectId] });
  return {
    env: { PRIMAVERA_P6_HOSTS: new URL(emulator.url).hostname, PRIMAVERA_P6_ALLOW_HTTP: 'true' },
    urls: { primaveraP6: emulator.url, primaveraP6User: 'trackproject.p6', primaveraP6Password: password },
    stop: () => emulator.stop(),
  };
}

/** One emulator per built family of the catalog: a family built but missing here fails `tsc`. */
export const SANDBOX_ENTRIES: Record<BuiltFamily, SandboxEntry> = {
  github: githubSandbox,
  microsoft: microsoftSandbox,
  jira: jiraSandbox,
  google: googleSandbox,
  procore: procoreSandbox,
  slack: slackSandbox,
  okta: oktaSandbox,
  autodesk: autodeskSandbox,
  sap: sapSandbox,
  'oracle-erp': oracleErpSandbox,
  'primavera-p6': primaveraSandbox,
};

export async function startSandbox(options: { apiPublicUrl: string }): Promise<Sandbox> {
  const context = {
    apiPublicUrl: options.apiPublicUrl,
    callback: (vendor: string) => `${options.apiPublicUrl}/v1/oauth/callback/${vendor}`,
  };
  const started: Sandbox[] = [];
  try {
    for (const family of BUILT_FAMILIES) started.push(await SANDBOX_ENTRIES[family](context));
  } catch (error) {
    await Promise.all(started.map((sandbox) => sandbox.stop()));
    throw error;
  }
  return {
    env: Object.assign({}, ...started.map((sandbox) => sandbox.env)),
    urls: Object.assign({}, ...started.map((sandbox) => sandbox.urls)),
    stop: async () => void (await Promise.all(started.map((sandbox) => sandbox.stop()))),
  };
}

/** `POST /github/issues/{owner}/{repo}/{number}/{edited|deleted}` */
const ISSUE_EVENT_PATH = /^\/github\/issues\/([\w.-]+\/[\w.-]+)\/(\d+)\/(edited|deleted)$/;
/** `POST /github/accounts`: one more account with its own owner, repositories and installation. */
const NEW_ACCOUNT_PATH = '/github/accounts';

/**
 * The control endpoint. Applies an issue edit or deletion in the GitHub emulator and delivers the
 * signed `issues.*` webhook for the account's installation to the API, as GitHub does (answers the
 * receiver's status). Adds a GitHub account, signed in for one browser: one installation is bound
 * to one workspace, so each workspace that connects GitHub (bench:api's) needs its own.
 */
async function startControlServer(
  github: GithubEmulator,
  first: SandboxGithubAccount,
  webhookUrl: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const installations = new Map([[first.account, first.installationId]]);
  const addAccount = () => {
    const account = `acme-${installations.size + 1}`;
    const owner = `builder-${installations.size + 1}`;
    const added = addGithubAccount(github, account, owner);
    installations.set(account, added.installationId);
    return { status: 201, body: { ...added, sessionCookie: github.control.signIn(owner) } };
  };
  const deliver = async (fullName: string, number: number, action: 'edited' | 'deleted') => {
    const [owner, name] = fullName.split('/') as [string, string];
    const installationId = installations.get(owner);
    const issue = github.control.issues(fullName).find((item) => item.number === number);
    if (!issue || installationId === undefined)
      return { status: 404, body: { detail: `no issue ${fullName}#${number}` } };
    if (action === 'edited') github.control.updateIssue(fullName, number, { title: `${String(issue.title)} (edited)` });
    else await github.control.deleteIssue(fullName, number);
    const payload = webhookExample('issues', action);
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
      : Promise.resolve(
          request.method === 'POST' && request.url === NEW_ACCOUNT_PATH
            ? addAccount()
            : { status: 404, body: { detail: 'unknown control' } },
        );
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
