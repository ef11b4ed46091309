/** The cheapest authenticated Graph call each row's matrix scopes allow, proving the credential works. */
import type { ConnectorContext } from '../types';
import { microsoftRow, selectedSites } from './guards';
import type { MicrosoftPlatform } from './platform';

export async function testConnection(
  { graphCall, endpoints }: MicrosoftPlatform,
  ctx: ConnectorContext,
): Promise<void> {
  switch (microsoftRow(ctx.vendor)) {
    case 'microsoft365':
      await graphCall(ctx, { action: 'drive.get', scope: 'Files.Read' }, (client) =>
        client.api('/me/drive').select('id').get(),
      );
      return;
    case 'onedrive':
      await graphCall(ctx, { action: 'approot.get', scope: 'Files.ReadWrite.AppFolder' }, (client) =>
        client.api('/me/drive/special/approot').select('id').get(),
      );
      return;
    case 'sharepoint':
      // Each selected site answers only once the admin has granted it (Sites.Selected).
      for (const siteId of selectedSites(ctx)) {
        await graphCall(ctx, { action: 'site.get', scope: 'Sites.Selected' }, (client) =>
          client
            .api(`/sites/${encodeURIComponent(siteId)}`)
            .select('id')
            .get(),
        );
      }
      return;
    case 'teams':
      // "List chats" takes Chat.ReadWrite, which the row has; the chats are not kept.
      await graphCall(ctx, { action: 'chats.list', scope: 'Chat.ReadWrite' }, (client) =>
        client.api('/me/chats').top(1).get(),
      );
      return;
    case 'entra':
      await graphCall(ctx, { action: 'oidc.userinfo', scope: 'openid' }, (client) =>
        client.api(`${endpoints.graphBaseUrl}/oidc/userinfo`).get(),
      );
      return;
  }
}
