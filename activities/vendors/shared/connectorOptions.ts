/**
 * What every connector factory takes beside its vendor's own settings (`workers/vendors.ts` passes
 * them), declared once so that each vendor's options only add its hosts and app.
 */
import type { VendorBudgets } from './vendorBudgets';

export interface ConnectorRuntimeOptions {
  /** The connector's clock (token expiry, `updated` windows, rate windows); tests share the emulator's. */
  now?: () => number;
  /** The worker's vendor budgets (shared by every worker); absent: this process's own. */
  budgets?: VendorBudgets;
}

/** A vendor we sign in to with our own OAuth app: its registration beside the runtime options. */
export interface OAuthAppConnectorOptions extends ConnectorRuntimeOptions {
  clientId: string;
  clientSecret: string;
}
