/**
 * Composition root for vendor connectors, the only place that loads vendor SDKs: one connector per
 * configured vendor app, registered for every matrix row it serves. Rows of an unconfigured vendor
 * stay out of the registry, so a connect attempt fails fast with a typed, non-retryable error
 * instead of calling a vendor with no app.
 */
import { CATALOG, BUILT_FAMILIES, type AppOf, type BuiltFamily, type VendorApps } from '../activities/vendors/catalog';
import { createAutodeskConnector } from '../activities/vendors/autodesk/connector';
import { createGithubConnector } from '../activities/vendors/github/connector';
import { createGoogleConnector } from '../activities/vendors/google/connector';
import { createJiraConnector } from '../activities/vendors/jira/connector';
import { createMicrosoftConnector } from '../activities/vendors/microsoft/connector';
import { createProcoreConnector } from '../activities/vendors/procore/connector';
import { createSapConnector } from '../activities/vendors/sap/connector';
import { createSlackConnector } from '../activities/vendors/slack/connector';
import { createOktaConnector } from '../activities/vendors/okta/connector';
import { createOracleErpConnector } from '../activities/vendors/oracle-erp/connector';
import { createPrimaveraConnector } from '../activities/vendors/primavera-p6/connector';
import {
  createConnectorRegistry,
  type ConnectorRegistry,
  type VendorRegistration,
} from '../activities/vendors/registry';
import type { VendorBudgets } from '../activities/vendors/shared';
import type { Connector } from '../activities/vendors/types';

/**
 * One factory per built family: a family built in the catalog but not wired here fails `tsc`.
 * `budgets` are the worker's vendor budgets, shared by every worker; absent: the process's own.
 */
export type ConnectorFactories = { [F in BuiltFamily]: (app: AppOf<F>, budgets?: VendorBudgets) => Connector };

export const CONNECTOR_FACTORIES: ConnectorFactories = {
  github: ({ apiUrl, webUrl, appId, appSlug, privateKey, clientId, clientSecret }, budgets) =>
    createGithubConnector({
      apiBaseUrl: apiUrl,
      webBaseUrl: webUrl,
      appId,
      appSlug,
      privateKey,
      clientId,
      clientSecret,
      budgets,
    }),
  microsoft: ({ loginUrl, graphUrl, tenantId, clientId, clientSecret, caCert, notificationUrl }, budgets) =>
    createMicrosoftConnector({
      clientId,
      clientSecret,
      tenantId,
      graphBaseUrl: graphUrl,
      loginBaseUrl: loginUrl,
      caCert,
      notificationUrl,
      budgets,
    }),
  jira: ({ authUrl, apiUrl, clientId, clientSecret }, budgets) =>
    createJiraConnector({ authBaseUrl: authUrl, apiBaseUrl: apiUrl, clientId, clientSecret, budgets }),
  google: (app, budgets) => createGoogleConnector({ ...app, budgets }),
  procore: ({ authUrl, apiUrl, clientId, clientSecret }, budgets) =>
    createProcoreConnector({ authBaseUrl: authUrl, apiBaseUrl: apiUrl, clientId, clientSecret, budgets }),
  slack: ({ apiUrl, webUrl, clientId, clientSecret }, budgets) =>
    createSlackConnector({ apiUrl, webUrl, clientId, clientSecret, budgets }),
  okta: (app, budgets) => createOktaConnector({ ...app, budgets }),
  autodesk: ({ apiUrl, clientId, clientSecret }, budgets) =>
    createAutodeskConnector({ apiBaseUrl: apiUrl, clientId, clientSecret, budgets }),
  sap: (app, budgets) => createSapConnector({ ...app, budgets }),
  'oracle-erp': (hosts, budgets) => createOracleErpConnector({ hosts, budgets }),
  'primavera-p6': (hosts, budgets) => createPrimaveraConnector({ hosts, budgets }),
};

function registrationsOf<F extends BuiltFamily>(
  family: F,
  app: AppOf<F> | undefined,
  budgets: VendorBudgets | undefined,
): VendorRegistration[] {
  if (app === undefined) return [];
  const connector = CONNECTOR_FACTORIES[family](app, budgets);
  return CATALOG[family].rows.map((descriptor) => ({ descriptor, connector }));
}

export function createVendorRegistry(apps: VendorApps, budgets?: VendorBudgets): ConnectorRegistry {
  return createConnectorRegistry(BUILT_FAMILIES.flatMap((family) => registrationsOf(family, apps[family], budgets)));
}
