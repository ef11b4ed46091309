/** The cheapest authenticated call each row's scopes allow, proving the credential works. */
import type { ConnectorContext } from '../types';
import { createOAuthClient } from './client';
import { googleRow, hostedDomains, refused } from './guards';
import type { GooglePlatform } from './platform';

export async function testConnection(platform: GooglePlatform, ctx: ConnectorContext): Promise<void> {
  switch (googleRow(ctx.vendor)) {
    case 'google-drive':
      // The cheapest call drive.file allows, touching no file: a deleted pick must not fail a rotation.
      await platform.driveCall(ctx, { action: 'changes.start-page-token', scope: 'drive.file' }, (drive) =>
        drive.changes.getStartPageToken({}),
      );
      return;
    case 'google-workspace':
      await platform.vendorCall(
        { audit: ctx.audit, workspaceId: ctx.workspaceId },
        { action: 'oidc.userinfo', scope: 'openid' },
        async () => {
          const client = createOAuthClient(platform.app, platform.endpoints);
          client.setCredentials({ access_token: ctx.credential.accessToken });
          const { data } = await client.request<{ sub?: string; hd?: string }>({ url: platform.endpoints.userinfoUrl });
          // Still the person and the domain consented at sign-in; the claims are read, never kept.
          if (data.sub !== ctx.credential.metadata?.subject)
            throw refused(ctx.vendor, 'userinfo names another subject');
          if (!data.hd || !hostedDomains(ctx.vendor, ctx.controls).includes(data.hd.toLowerCase()))
            throw refused(ctx.vendor, 'hosted domain (hd) outside the customer’s domains');
        },
      );
      return;
  }
}
