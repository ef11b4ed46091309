/** Our Procore app registration (Developer Portal; not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface ProcoreApp {
  /** Authorization server (login.procore.com): /oauth/authorize, /oauth/token, /oauth/revoke. */
  authUrl: string;
  /** REST API host (api.procore.com). */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

export function readProcoreApp(read: ConfigReader): ProcoreApp | undefined {
  const app = read.app('Procore', {
    PROCORE_CLIENT_ID: read.str('PROCORE_CLIENT_ID'),
    PROCORE_CLIENT_SECRET: read.valueOrFile('PROCORE_CLIENT_SECRET'),
  });
  return (
    app && {
      authUrl: read.url('PROCORE_AUTH_URL', ['https:', 'http:']) ?? 'https://login.procore.com',
      apiUrl: read.url('PROCORE_API_URL', ['https:', 'http:']) ?? 'https://api.procore.com',
      clientId: app.PROCORE_CLIENT_ID,
      clientSecret: app.PROCORE_CLIENT_SECRET,
    }
  );
}
