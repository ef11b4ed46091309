/**
 * Composition root for vendor connectors: one connector per configured vendor app, registered for
 * every matrix row it serves. Rows of an unconfigured vendor stay out of the registry, so a connect
 * attempt fails fast with a typed, non-retryable error instead of calling a vendor with no app.
 */
import { createGithubConnector, githubDescriptors } from '../activities/vendors/github';
import { createJiraConnector, jiraDescriptors } from '../activities/vendors/jira';
import { createMicrosoftConnector, microsoftDescriptors } from '../activities/vendors/microsoft';
import {
  createConnectorRegistry,
  type ConnectorRegistry,
  type VendorRegistration,
} from '../activities/vendors/registry';
import type { Connector, VendorDescriptor } from '../activities/vendors/types';
import type { VendorApps } from '../lib/config';

const rows = (descriptors: readonly VendorDescriptor[], connector: Connector): VendorRegistration[] =>
  descriptors.map((descriptor) => ({ descriptor, connector }));

export function createVendorRegistry(apps: VendorApps): ConnectorRegistry {
  const registrations: VendorRegistration[] = [];
  if (apps.github) {
    const { apiUrl, webUrl, appId, privateKey, clientId, clientSecret } = apps.github;
    registrations.push(
      ...rows(
        githubDescriptors,
        createGithubConnector({ apiBaseUrl: apiUrl, webBaseUrl: webUrl, appId, privateKey, clientId, clientSecret }),
      ),
    );
  }
  if (apps.microsoft) {
    const { loginUrl, graphUrl, tenantId, clientId, clientSecret, caCert } = apps.microsoft;
    registrations.push(
      ...rows(
        Object.values(microsoftDescriptors),
        createMicrosoftConnector({
          clientId,
          clientSecret,
          tenantId,
          graphBaseUrl: graphUrl,
          loginBaseUrl: loginUrl,
          caCert,
        }),
      ),
    );
  }
  if (apps.jira) {
    const { authUrl, apiUrl, clientId, clientSecret } = apps.jira;
    registrations.push(
      ...rows(
        jiraDescriptors,
        createJiraConnector({ authBaseUrl: authUrl, apiBaseUrl: apiUrl, clientId, clientSecret }),
      ),
    );
  }
  return createConnectorRegistry(registrations);
}
