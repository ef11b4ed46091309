/**
 * Vendor app installations bound to one integration (db/migrations/0008_app_installation_bindings.ts).
 * Every function runs inside the caller's `withWorkspace` transaction: RLS shows a workspace only its
 * own bindings, and the primary key refuses a second binding of an installation from any workspace.
 */
import type { Knex } from 'knex';

export interface InstallationBinding {
  vendor: string;
  installationId: string;
  workspaceId: string;
  integrationId: string;
}

/**
 * Binds the installation to the integration; true when it is bound to it now (also on a retry),
 * false when the installation is taken by another integration or this one holds another installation.
 */
export async function bindInstallation(trx: Knex.Transaction, binding: InstallationBinding): Promise<boolean> {
  await trx('app_installation_bindings')
    .insert({
      vendor: binding.vendor,
      installation_id: binding.installationId,
      workspace_id: binding.workspaceId,
      integration_id: binding.integrationId,
    })
    .onConflict()
    .ignore();
  const held = await boundInstallation(trx, binding.integrationId);
  return held === binding.installationId;
}

/** The installation this integration bound, if any. */
export async function boundInstallation(trx: Knex.Transaction, integrationId: string): Promise<string | undefined> {
  const row = await trx('app_installation_bindings')
    .where({ integration_id: integrationId })
    .first<{ installation_id: string } | undefined>('installation_id');
  return row?.installation_id;
}

/** The integration lets its installation go (disconnect, failed connect): another workspace may bind it. */
export async function releaseInstallation(trx: Knex.Transaction, integrationId: string): Promise<void> {
  await trx('app_installation_bindings').where({ integration_id: integrationId }).delete();
}
