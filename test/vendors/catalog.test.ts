/**
 * The vendor catalog is the one list of vendors: all 18 matrix rows, each served by exactly one
 * family; configuration of every built family read with the core config (problems reported
 * together); and the README's vendor table says what the catalog says.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BUILT_FAMILIES,
  CATALOG,
  catalogRows,
  readServiceConfig,
  webhookVerifiers,
} from '../../activities/vendors/catalog';
import { allowedOrgUrl } from '../../activities/vendors/okta/config';
import { allowedTenantUrl } from '../../activities/vendors/sap';
import { urlOnAllowedHost } from '../../activities/vendors/shared/hostAllowList';
import type { VendorId } from '../../activities/vendors/types';
import { ConfigError, parseConfig } from '../../lib/config';

/** The 18 ids of `VendorId` (a union has no runtime value; the Record forces this list to be complete). */
const ALL_VENDOR_IDS = Object.keys({
  microsoft365: 0,
  sharepoint: 0,
  onedrive: 0,
  teams: 0,
  entra: 0,
  'google-drive': 0,
  'google-workspace': 0,
  slack: 0,
  okta: 0,
  'autodesk-acc': 0,
  'autodesk-docs': 0,
  'autodesk-tandem': 0,
  procore: 0,
  'primavera-p6': 0,
  sap: 0,
  'oracle-erp': 0,
  jira: 0,
  github: 0,
} satisfies Record<VendorId, 0>) as VendorId[];

describe('vendor catalog', () => {
  it('lists the 18 rows of the matrix, each in exactly one family', () => {
    const ids = catalogRows({}).map((row) => row.descriptor.id);
    expect(ids).toHaveLength(18);
    expect([...ids].sort()).toEqual([...ALL_VENDOR_IDS].sort());
    for (const [family, manifest] of Object.entries(CATALOG)) expect(manifest.family).toBe(family);
  });

  it('has all eighteen rows built: the seven wave-1 rows, the two Google rows, Slack, Okta, the three Autodesk rows, Procore, Primavera P6, SAP and Oracle ERP', () => {
    expect(BUILT_FAMILIES).toEqual([
      'github',
      'microsoft',
      'jira',
      'google',
      'slack',
      'okta',
      'autodesk',
      'procore',
      'primavera-p6',
      'sap',
      'oracle-erp',
    ]);
    expect(catalogRows({}).filter((row) => row.availability === 'planned')).toHaveLength(0);
    expect(catalogRows({}).filter((row) => row.availability === 'not-configured')).toHaveLength(18);
  });

  it('serves a webhook scheme only through the family whose rows declare it', () => {
    for (const manifest of Object.values(CATALOG)) {
      if (!manifest.webhooks) continue;
      expect(manifest.rows.map((row) => row.webhook.scheme)).toContain(manifest.webhooks.scheme);
    }
    // Jira's receiver needs our app; Slack's and Okta's verifiers need none.
    expect(Object.keys(webhookVerifiers({})).sort()).toEqual([
      'autodesk-hmac-sha1',
      'github-hmac-sha256',
      'google-channel-token',
      'graph-client-state',
      'okta-shared-header',
      'procore-destination-header',
      'slack-signing-secret',
    ]);
  });
});

describe('vendor app configuration', () => {
  const jira = { JIRA_CLIENT_ID: 'jira-client', JIRA_CLIENT_SECRET: 'jira-secret' };

  it('reads a configured vendor app into its family and leaves the others unconfigured', () => {
    const config = parseConfig({ ...jira, JIRA_API_URL: 'https://jira.test' }, readServiceConfig);
    expect(config.vendors).toEqual({
      jira: {
        authUrl: 'https://auth.atlassian.com',
        apiUrl: 'https://jira.test',
        clientId: 'jira-client',
        clientSecret: 'jira-secret',
      },
      // SAP needs no app of ours: available with SAP's cloud hosts unless SAP_API_DOMAINS says otherwise.
      sap: { apiDomains: ['s4hana.cloud.sap', 's4hana.ondemand.com'], allowHttp: false },
    });
    expect(catalogRows(config.vendors).find((row) => row.descriptor.id === 'jira')?.availability).toBe('available');
    expect(catalogRows(config.vendors).find((row) => row.descriptor.id === 'github')?.availability).toBe(
      'not-configured',
    );
  });

  it('reads the SAP tenant hosts and holds a credential URL to them (origin only, https unless allowed)', () => {
    const { sap } = parseConfig({ SAP_API_DOMAINS: 'sap.acme.example, s4hana.cloud.sap' }, readServiceConfig).vendors;
    expect(sap).toEqual({ apiDomains: ['sap.acme.example', 's4hana.cloud.sap'], allowHttp: false });
    expect(allowedTenantUrl(sap!, 'https://my123456-api.s4hana.cloud.sap')?.origin).toBe(
      'https://my123456-api.s4hana.cloud.sap',
    );
    expect(allowedTenantUrl(sap!, 'https://gw.sap.acme.example/')?.origin).toBe('https://gw.sap.acme.example');
    for (const refused of [
      'http://my123456-api.s4hana.cloud.sap',
      'https://s4hana.cloud.sap.evil.test',
      'https://user:pw@my123456-api.s4hana.cloud.sap',
      'https://my123456-api.s4hana.cloud.sap/sap/opu/odata/sap',
      'https://my123456-api.s4hana.cloud.sap?x=1',
      'not a url',
    ])
      expect(allowedTenantUrl(sap!, refused)).toBeUndefined();
    expect(() => parseConfig({ SAP_API_DOMAINS: 'https://x.test/' }, readServiceConfig)).toThrow(/SAP_API_DOMAINS/);
  });

  it('reads our Slack app (secrets from files lose their trailing newline; the Web API base ends in a slash) and refuses a partial one', () => {
    const config = parseConfig(
      {
        SLACK_CLIENT_ID: '111.222',
        SLACK_CLIENT_SECRET: 'slack-secret',
        SLACK_SIGNING_SECRET: 'signing-secret\n',
        SLACK_API_URL: 'https://slack.test/api',
      },
      readServiceConfig,
    );
    expect(config.vendors.slack).toEqual({
      apiUrl: 'https://slack.test/api/',
      webUrl: 'https://slack.com',
      clientId: '111.222',
      clientSecret: 'slack-secret',
      signingSecret: 'signing-secret',
    });
    expect(() => parseConfig({ SLACK_CLIENT_ID: '111.222' }, readServiceConfig)).toThrow(
      /Slack app is partly configured: missing SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET/,
    );
  });

  it('reports core and vendor problems together, without echoing secrets', () => {
    let error: unknown;
    try {
      parseConfig(
        {
          API_PORT: 'x',
          GITHUB_APP_ID: '1',
          MICROSOFT_CLIENT_SECRET: 'ms-secret-canary',
          ...jira,
          JIRA_API_URL: 'ftp:',
        },
        readServiceConfig,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'API_PORT must be a TCP port 1-65535 (got "x")',
      expect.stringMatching(/^GitHub app is partly configured: missing GITHUB_APP_PRIVATE_KEY, GITHUB_CLIENT_ID/),
      'Microsoft app is partly configured: missing MICROSOFT_CLIENT_ID',
      'JIRA_API_URL is not a valid URL',
    ]);
    expect(problems.join('\n')).not.toContain('ms-secret-canary');
  });
});

describe('README vendor table', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

  it('lists every catalog row with its family and status, and nothing else', () => {
    const table = readme.slice(readme.indexOf('| Row | Vendor | Family | Status |'));
    const lines = table.split('\n').slice(2);
    const rows = lines.slice(
      0,
      lines.findIndex((line) => !line.startsWith('|')),
    );
    const parsed = rows.map((line) => line.split('|').map((cell) => cell.trim().replace(/`/g, '')));
    expect(parsed.map(([, id, name, family, status]) => ({ id, name, family, status }))).toEqual(
      catalogRows({}).map((row) => ({
        id: row.descriptor.id,
        name: row.descriptor.displayName,
        family: row.family,
        status: row.availability === 'planned' ? 'planned' : 'built',
      })),
    );
  });
});

describe('Okta deployment settings', () => {
  it('reads the allowed org domains, and accepts only an org origin on one of them', () => {
    const config = parseConfig({ OKTA_ORG_DOMAINS: 'okta.com, Customer-SSO.example' }, readServiceConfig);
    const okta = config.vendors.okta!;
    expect(okta).toEqual({ orgDomains: ['okta.com', 'customer-sso.example'], allowHttp: false });
    expect(allowedOrgUrl(okta, 'https://acme.okta.com')?.origin).toBe('https://acme.okta.com');
    expect(allowedOrgUrl(okta, 'https://login.customer-sso.example')?.origin).toBe(
      'https://login.customer-sso.example',
    );
    for (const refused of [
      'http://acme.okta.com',
      'https://acme.okta.com.attacker.example',
      'https://evilokta.com',
      'https://acme.okta.com/oauth2/default',
      'https://user:pw@acme.okta.com',
      'not a url',
    ])
      expect(allowedOrgUrl(okta, refused)).toBeUndefined();
  });
});

describe('Oracle ERP Cloud and Primavera P6 deployment settings', () => {
  it('reads the hosts a submitted pod or P6 URL may have, and accepts only https URLs on them', () => {
    const config = parseConfig(
      { ORACLE_ERP_HOSTS: 'oraclecloud.com', PRIMAVERA_P6_HOSTS: 'oraclecloud.com, P6.Customer.example' },
      readServiceConfig,
    );
    expect(config.vendors['oracle-erp']).toEqual({ hosts: ['oraclecloud.com'], allowHttp: false });
    const p6 = config.vendors['primavera-p6']!;
    expect(p6).toEqual({ hosts: ['oraclecloud.com', 'p6.customer.example'], allowHttp: false });
    expect(urlOnAllowedHost(p6, 'https://p6.customer.example/p6ws')?.host).toBe('p6.customer.example');
    expect(urlOnAllowedHost(p6, 'https://eu1.p6.oraclecloud.com/acme')?.pathname).toBe('/acme');
    for (const refused of [
      'http://eu1.p6.oraclecloud.com',
      'https://oraclecloud.com.attacker.example',
      'https://user:pw@fa-acme.oraclecloud.com',
      'https://169.254.169.254',
      'not a url',
    ])
      expect(urlOnAllowedHost(p6, refused)).toBeUndefined();
    expect(() => parseConfig({ ORACLE_ERP_HOSTS: 'bad host/' }, readServiceConfig)).toThrow(
      /ORACLE_ERP_HOSTS must be a comma-separated list of host names/,
    );
  });
});
