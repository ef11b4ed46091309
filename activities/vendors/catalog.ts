/**
 * The vendor catalog: every family of the vendor matrix, built or planned, SDK-free. Adding a
 * vendor is one folder and one line here; the compiler then asks for the rest (worker connector
 * factory, sandbox emulator entry), and tests check the rest against it (README table, runtime
 * dependencies, 18 rows).
 */
import { readCoreConfig, type Config, type ConfigReader } from '../../lib/config';
import { autodeskManifest } from './autodesk';
import { githubManifest } from './github';
import { googleManifest } from './google';
import { jiraManifest } from './jira';
import type { BuiltManifest, VendorFamily, VendorManifest } from './manifest';
import { microsoftManifest } from './microsoft';
import { oktaManifest } from './okta';
import { oracleErpManifest } from './oracle-erp';
import { primaveraManifest } from './primavera-p6';
import { procoreManifest } from './procore';
import { sapManifest } from './sap';
import { slackManifest } from './slack';
import type { VendorDescriptor, VendorId, WebhookScheme, WebhookVerifier } from './types';

export const CATALOG = {
  github: githubManifest,
  microsoft: microsoftManifest,
  jira: jiraManifest,
  google: googleManifest,
  slack: slackManifest,
  okta: oktaManifest,
  autodesk: autodeskManifest,
  procore: procoreManifest,
  'primavera-p6': primaveraManifest,
  sap: sapManifest,
  'oracle-erp': oracleErpManifest,
} as const satisfies Record<VendorFamily, VendorManifest>;

type Catalog = typeof CATALOG;

/** Families with a connector: the worker and the sandbox must wire each of them (checked by `tsc`). */
export type BuiltFamily = {
  [F in VendorFamily]: Catalog[F] extends BuiltManifest<unknown> ? F : never;
}[VendorFamily];

/** Our app registration at a built family's vendor, as its config parser returns it. */
export type AppOf<F extends BuiltFamily> = Catalog[F] extends BuiltManifest<infer App> ? App : never;

/** The app registrations of a deployment: a family absent here is built but not configured. */
export type VendorApps = { [F in BuiltFamily]?: AppOf<F> };

export type VendorAvailability = 'available' | 'not-configured' | 'planned';

export interface CatalogRow {
  family: VendorFamily;
  descriptor: VendorDescriptor;
  availability: VendorAvailability;
}

const FAMILIES = Object.keys(CATALOG) as VendorFamily[];

export const BUILT_FAMILIES = FAMILIES.filter((family) => CATALOG[family].status === 'built') as BuiltFamily[];

/** Reads every built family's app registration with the entry point's reader (problems reported together). */
export function readVendorApps(read: ConfigReader): VendorApps {
  const apps: Record<string, unknown> = {};
  for (const family of BUILT_FAMILIES) {
    const app = CATALOG[family].config(read);
    if (app !== undefined) apps[family] = app;
  }
  return apps as VendorApps;
}

export type ServiceConfig = Config & { vendors: VendorApps };

/** What the API and the worker run on: core settings and our vendor apps, every problem reported together. */
export function readServiceConfig(read: ConfigReader): ServiceConfig {
  return { ...readCoreConfig(read), vendors: readVendorApps(read) };
}

/** Every matrix row, in catalog order, with what this deployment can do with it. */
export function catalogRows(apps: VendorApps): CatalogRow[] {
  return FAMILIES.flatMap((family) => {
    // Widened: every family is built today, and a row promised on the trust page may be planned again.
    const manifest = CATALOG[family] as VendorManifest;
    const availability: VendorAvailability =
      manifest.status === 'planned' ? 'planned' : family in apps ? 'available' : 'not-configured';
    return manifest.rows.map((descriptor) => ({ family, descriptor, availability }));
  });
}

/** The family that serves a matrix row. */
export function familyOf(vendor: VendorId): VendorFamily {
  const family = FAMILIES.find((candidate) => CATALOG[candidate].rows.some((row) => row.id === vendor));
  if (!family) throw new Error(`no catalog family serves ${vendor}`);
  return family;
}

/**
 * The rows whose calls draw on the same vendor budget as `row`'s: its family's (a budget is keyed by
 * family, app and account: Graph counts per tenant whichever row calls), the row itself included. A
 * row outside the catalog (a test vendor) shares with itself only. For the polling floor (T12).
 */
export function budgetSharingRows(row: VendorDescriptor): readonly VendorDescriptor[] {
  const family = FAMILIES.find((candidate) => CATALOG[candidate].rows.some((listed) => listed.id === row.id));
  if (!family) return [row];
  // The row as the caller has it (a test row may stand in for a catalog row under its id).
  return CATALOG[family].rows.map((listed) => (listed.id === row.id ? row : listed));
}

/** Vendor SDK packages of every built family: none of them may load in the API process. */
export function vendorSdkPackages(): string[] {
  return BUILT_FAMILIES.flatMap((family) => CATALOG[family].sdkPackages);
}

export type WebhookVerifiers = Partial<Record<WebhookScheme, WebhookVerifier>>;

/** The API's receivers: one per webhook scheme a family serves (and, where it needs one, whose app is configured). */
export function webhookVerifiers(apps: VendorApps): WebhookVerifiers {
  const verifiers: WebhookVerifiers = {};
  for (const family of FAMILIES) {
    // Widened: every family is built today, and a row promised on the trust page may be planned again.
    const manifest = CATALOG[family] as VendorManifest;
    const app = family in apps ? (apps as Record<string, unknown>)[family] : undefined;
    const verifier = manifest.webhooks?.verifier(app as undefined);
    if (manifest.webhooks && verifier) verifiers[manifest.webhooks.scheme] = verifier;
  }
  return verifiers;
}

/**
 * App-wide webhook secrets (one URL for all customers), by row, for the families whose app is
 * configured: the current secret first, then the previous one during an operator rotation (T8).
 */
export function appWebhookSecrets(apps: VendorApps): Partial<Record<VendorId, readonly string[]>> {
  const secrets: Partial<Record<VendorId, readonly string[]>> = {};
  for (const family of BUILT_FAMILIES) {
    const manifest: BuiltManifest<unknown> = CATALOG[family];
    const app = (apps as Record<string, unknown>)[family];
    if (app === undefined || !manifest.webhooks.appSecrets) continue;
    for (const row of manifest.rows) secrets[row.id] = manifest.webhooks.appSecrets(app);
  }
  return secrets;
}
