/**
 * The API process loads no vendor SDK: it serves descriptors, config parsers and webhook verifiers
 * from the vendor catalog, and only the worker loads connectors. The SDK list comes from the
 * catalog's manifests, and every runtime dependency must be either a declared vendor SDK or on the
 * explicit non-vendor list below, so a new SDK cannot slip past.
 */
import fs from 'node:fs';
import path from 'node:path';
import { vendorSdkPackages } from '../../activities/vendors/catalog';
import { loadedPackages } from '../support/loadedPackages';

/** Runtime dependencies that are not vendor SDKs (framework, Temporal, data tier, telemetry). */
const NON_VENDOR_PACKAGES = [
  // The secret store's KEK provider (KEY_PROVIDER=aws-kms): our own key management, not a vendor row.
  '@aws-sdk/client-kms',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@opentelemetry/api',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/semantic-conventions',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/common',
  '@temporalio/envconfig',
  '@temporalio/interceptors-opentelemetry',
  '@temporalio/proto',
  '@temporalio/worker',
  '@temporalio/workflow',
  // Our own workspace package (packages/client): the workflow messages and the payload codec.
  '@trackproject/integrations-client',
  'fastify',
  'jose',
  'knex',
  'pg',
  'pino',
  'prom-client',
  'typebox',
  'undici',
];

const SDKS = vendorSdkPackages();

test('every runtime dependency is a vendor SDK declared by a catalog manifest or a listed non-vendor package', () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const unclassified = Object.keys(manifest.dependencies).filter(
    (name) => !SDKS.includes(name) && !NON_VENDOR_PACKAGES.includes(name),
  );
  expect(unclassified).toEqual([]);
  // No stale entry: a package named here but no longer a runtime dependency would hide nothing, yet mislead.
  const runtime = Object.keys(manifest.dependencies);
  expect([...SDKS, ...NON_VENDOR_PACKAGES].filter((name) => !runtime.includes(name))).toEqual([]);
  expect(SDKS).toEqual(
    expect.arrayContaining(['@octokit/rest', '@microsoft/microsoft-graph-client', '@azure/msal-node', 'jira.js']),
  );
});

test('the API composition loads no vendor SDK', async () => {
  const loaded = await loadedPackages('api/app.ts');
  expect(loaded.has('fastify')).toBe(true);
  expect(SDKS.filter((sdk) => loaded.has(sdk))).toEqual([]);
}, 120_000);

test('the probe sees the SDKs where they are loaded: the worker connector registry', async () => {
  const loaded = await loadedPackages('workers/vendors.ts');
  expect(['@octokit/rest', '@microsoft/microsoft-graph-client', 'jira.js'].filter((sdk) => loaded.has(sdk))).toEqual([
    '@octokit/rest',
    '@microsoft/microsoft-graph-client',
    'jira.js',
  ]);
}, 120_000);
