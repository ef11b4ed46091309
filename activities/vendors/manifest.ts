/**
 * What a vendor folder declares about itself, SDK-free (the API loads every manifest; only the
 * worker loads connectors). `catalog.ts` holds one manifest per family; everything that lists
 * vendors (API vendor list, webhook verifiers, config, worker registry, sandbox, README table) is
 * derived from it or checked against it.
 */
import type { ConfigReader } from '../../lib/config';
import type { VendorDescriptor, WebhookScheme, WebhookVerifier } from './types';

/** One vendor folder under `activities/vendors/`: it may serve several matrix rows (Microsoft: five). */
export type VendorFamily =
  | 'github'
  | 'microsoft'
  | 'jira'
  | 'google'
  | 'slack'
  | 'okta'
  | 'autodesk'
  | 'procore'
  | 'primavera-p6'
  | 'sap'
  | 'oracle-erp';

/** How the API's receiver serves a family's webhooks. */
export interface VendorWebhooks<App> {
  scheme: WebhookScheme;
  /** Undefined while the verifier needs our app registration (Jira signs with the app's secret) and it is absent. */
  verifier(app: App | undefined): WebhookVerifier | undefined;
  /**
   * The app-wide signing secrets of vendors with one webhook URL for all customers (a GitHub App, a
   * Slack app): the current one, then the previous one while an operator rotation's window is open.
   * These secrets belong to our app, not to an integration: the lifecycle never rotates them (T8).
   */
  appSecrets?(app: App): readonly string[];
}

interface ManifestBase {
  family: VendorFamily;
  /** The matrix rows this family serves. */
  rows: readonly VendorDescriptor[];
}

export interface BuiltManifest<App> extends ManifestBase {
  status: 'built';
  /**
   * npm packages of the vendor SDKs the family's connector loads: the API process must load none of
   * them, and every runtime dependency is either one of these or a declared non-vendor package.
   */
  sdkPackages: readonly string[];
  /** Reads our app registration at the vendor; undefined when not configured (its rows cannot be connected). */
  config(read: ConfigReader): App | undefined;
  webhooks: VendorWebhooks<App>;
}

/** A matrix row promised on the trust page, not built yet: listed as unavailable, connect answers 422. */
export interface PlannedManifest extends ManifestBase {
  status: 'planned';
  /** Receivers already written ahead of the connector (they answer only endpoints that exist, so none yet). */
  webhooks?: VendorWebhooks<undefined>;
}

export type VendorManifest = BuiltManifest<unknown> | PlannedManifest;

/**
 * Budgets of a planned row until its connector is built and measured against the vendor: the most
 * conservative of the built rows'. No vendor is called under them yet.
 */
export const PLANNED_ROW_BUDGETS = {
  rateLimit: { requestsPerMinute: 60 },
  cacheTtlMs: 24 * 60 * 60_000,
} as const;
