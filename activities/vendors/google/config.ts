/** Our Google Cloud OAuth client (not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface GoogleApp {
  /** Authorization endpoint host and the ID token issuer (`https://accounts.google.com`). */
  accountsUrl: string;
  /** Token and revocation endpoints (`https://oauth2.googleapis.com`). */
  oauth2Url: string;
  /** Drive API root and the signing keys (`https://www.googleapis.com`). */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

export function readGoogleApp(read: ConfigReader): GoogleApp | undefined {
  const app = read.app('Google', {
    GOOGLE_CLIENT_ID: read.str('GOOGLE_CLIENT_ID'),
    GOOGLE_CLIENT_SECRET: read.valueOrFile('GOOGLE_CLIENT_SECRET'),
  });
  return (
    app && {
      accountsUrl: read.url('GOOGLE_ACCOUNTS_URL', ['https:', 'http:']) ?? 'https://accounts.google.com',
      oauth2Url: read.url('GOOGLE_OAUTH2_URL', ['https:', 'http:']) ?? 'https://oauth2.googleapis.com',
      apiUrl: read.url('GOOGLE_API_URL', ['https:', 'http:']) ?? 'https://www.googleapis.com',
      clientId: app.GOOGLE_CLIENT_ID,
      clientSecret: app.GOOGLE_CLIENT_SECRET,
    }
  );
}
