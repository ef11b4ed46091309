/** Our APS app registration (a "Traditional Web App" with PKCE; not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface AutodeskApp {
  /** APS base address (https://developer.api.autodesk.com): authentication, Data Management, Issues, Webhooks. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

export function readAutodeskApp(read: ConfigReader): AutodeskApp | undefined {
  const app = read.app('Autodesk', {
    APS_CLIENT_ID: read.str('APS_CLIENT_ID'),
    APS_CLIENT_SECRET: read.valueOrFile('APS_CLIENT_SECRET'),
  });
  return (
    app && {
      apiUrl: read.url('APS_API_URL', ['https:', 'http:']) ?? 'https://developer.api.autodesk.com',
      clientId: app.APS_CLIENT_ID,
      clientSecret: app.APS_CLIENT_SECRET,
    }
  );
}
