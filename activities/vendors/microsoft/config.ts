/** Our Entra app registration (not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface MicrosoftApp {
  loginUrl: string;
  graphUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caCert?: string;
  notificationUrl?: string;
}

export function readMicrosoftApp(read: ConfigReader): MicrosoftApp | undefined {
  const app = read.app('Microsoft', {
    MICROSOFT_CLIENT_ID: read.str('MICROSOFT_CLIENT_ID'),
    MICROSOFT_CLIENT_SECRET: read.valueOrFile('MICROSOFT_CLIENT_SECRET'),
  });
  return (
    app && {
      // Graph's SDK sends tokens only over https: no http option here.
      loginUrl: read.url('MICROSOFT_LOGIN_URL', ['https:']) ?? 'https://login.microsoftonline.com',
      graphUrl: read.url('MICROSOFT_GRAPH_URL', ['https:']) ?? 'https://graph.microsoft.com',
      tenantId: read.str('MICROSOFT_TENANT_ID') ?? 'organizations',
      clientId: app.MICROSOFT_CLIENT_ID,
      clientSecret: app.MICROSOFT_CLIENT_SECRET,
      caCert: read.valueOrFile('MICROSOFT_CA_CERT'),
      // Graph delivers change notifications to https only; unset: the API's public URL.
      notificationUrl: read.url('MICROSOFT_NOTIFICATION_URL', ['https:']),
    }
  );
}
