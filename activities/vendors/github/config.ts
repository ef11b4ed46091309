/** Our GitHub App registration (not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface GithubApp {
  apiUrl: string;
  webUrl: string;
  appId: string;
  /** The app's URL name: the installation page is `<webUrl>/apps/<slug>/installations/new`. */
  appSlug: string;
  privateKey: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  /** The webhook secret an operator rotation replaced: still verifies until it is unset (T8). */
  previousWebhookSecret?: string;
}

export function readGithubApp(read: ConfigReader): GithubApp | undefined {
  const app = read.app('GitHub', {
    GITHUB_APP_ID: read.str('GITHUB_APP_ID'),
    GITHUB_APP_PRIVATE_KEY: read.valueOrFile('GITHUB_APP_PRIVATE_KEY'),
    GITHUB_CLIENT_ID: read.str('GITHUB_CLIENT_ID'),
    GITHUB_CLIENT_SECRET: read.valueOrFile('GITHUB_CLIENT_SECRET'),
    GITHUB_WEBHOOK_SECRET: read.valueOrFile('GITHUB_WEBHOOK_SECRET'),
    GITHUB_APP_SLUG: read.str('GITHUB_APP_SLUG'),
  });
  return (
    app && {
      // GitHub Enterprise Server has its own URLs.
      apiUrl: read.url('GITHUB_API_URL', ['https:', 'http:']) ?? 'https://api.github.com',
      webUrl: read.url('GITHUB_WEB_URL', ['https:', 'http:']) ?? 'https://github.com',
      appId: app.GITHUB_APP_ID,
      appSlug: app.GITHUB_APP_SLUG,
      privateKey: app.GITHUB_APP_PRIVATE_KEY,
      clientId: app.GITHUB_CLIENT_ID,
      clientSecret: app.GITHUB_CLIENT_SECRET,
      webhookSecret: app.GITHUB_WEBHOOK_SECRET,
      previousWebhookSecret: read.valueOrFile('GITHUB_WEBHOOK_SECRET_PREVIOUS'),
    }
  );
}
