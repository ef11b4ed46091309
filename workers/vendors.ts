/**
 * Composition root for vendor connectors, the only place that loads vendor SDKs: one connector per
 * configured vendor app, registered for every matrix row it serves. Rows of an unconfigured vendor
 * stay out of the registry, so a connect attempt fails fast with a typed, non-retryable error
 * instead of calling a vendor with no app.
 */
import { CATALOG, BUILT_FAMILIES, type AppOf, type BuiltFamily, type VendorApps } from '../activities/vendors/catalog';
import { createGithubConnector } from '../activities/vendors/github/connector';
import { createGoogleConnector } from '../activities/vendors/google/connector';
import { createJiraConnector } from '../activities/vendors/jira/connector';
import { createMicrosoftConnector } from '../activities/vendors/microsoft/connector';
import { createProcoreConnector } from '../activities/vendors/procore/connector';
import { createSlackConnector } from '../activities/vendors/slack/connector';
import { createOktaConnector } from '../activities/vendors/okta/connector';
import {
  createConnectorRegistry,
  type ConnectorRegistry,
  type VendorRegistration,
} from '../activities/vendors/registry';
import type { Connector } from '../activities/vendors/types';

/** One factory per built family: a family built in the catalog but not wired here fails `tsc`. */
export type ConnectorFactories = { [F in BuiltFamily]: (app: AppOf<F>) => Connector };

export const CONNECTOR_FACTORIES: ConnectorFactories = {
  github: ({ apiUrl, webUrl, appId, appSlug, privateKey, clientId, clientSecret }) =>
    createGithubConnector({
      apiBaseUrl: apiUrl,
      webBaseUrl: webUrl,
      appId,
      appSlug,
      privateKey,
      clientId,
      clientSecret,
    }),
  microsoft: ({ loginUrl, graphUrl, tenantId, clientId, clientSecret, caCert, notificationUrl }) =>
    createMicrosoftConnector({
      clientId,
      clientSecret,
      tenantId,
      graphBaseUrl: graphUrl,
      loginBaseUrl: loginUrl,
      caCert,
      notificationUrl,
    }),
  jira: ({ authUrl, apiUrl, clientId, clientSecret }) =>
    createJiraConnector({ authBaseUrl: authUrl, apiBaseUrl: apiUrl, clientId, clientSecret }),
  google: (app) => createGoogleConnector(app),
  procore: ({ authUrl, apiUrl, clientId, clientSecret }) =>
    createProcoreConnector({ authBaseUrl: authUrl, apiBaseUrl: apiUrl, clientId, clientSecret }),
  slack: ({ apiUrl, webUrl, clientId, clientSecret }) =>
    createSlackConnector({ apiUrl, webUrl, clientId, clientSecret }),
  okta: (app) => createOktaConnector(app),
};

function registrationsOf<F extends BuiltFamily>(family: F, app: AppOf<F> | undefined): VendorRegistration[] {
  if (app === undefined) return [];
  const connector = CONNECTOR_FACTORIES[family](app);
  return CATALOG[family].rows.map((descriptor) => ({ descriptor, connector }));
}

export function createVendorRegistry(apps: VendorApps): ConnectorRegistry {
  return createConnectorRegistry(BUILT_FAMILIES.flatMap((family) => registrationsOf(family, apps[family])));
}
