/** Our Slack app registration (not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface SlackApp {
  /** Web API base, ending in `/api/` as `@slack/web-api` expects (https://slack.com/api/). */
  apiUrl: string;
  /** Where the admin's browser consents (https://slack.com: `/oauth/v2/authorize`). */
  webUrl: string;
  clientId: string;
  clientSecret: string;
  /** Signs every Events API request to our one Request URL (`<API_PUBLIC_URL>/v1/webhooks/slack`). */
  signingSecret: string;
  /** The signing secret an operator rotation replaced: still verifies until it is unset (T8). */
  previousSigningSecret?: string;
}

export function readSlackApp(read: ConfigReader): SlackApp | undefined {
  const app = read.app('Slack', {
    SLACK_CLIENT_ID: read.str('SLACK_CLIENT_ID'),
    SLACK_CLIENT_SECRET: read.valueOrFile('SLACK_CLIENT_SECRET'),
    SLACK_SIGNING_SECRET: read.valueOrFile('SLACK_SIGNING_SECRET'),
  });
  const apiUrl = read.url('SLACK_API_URL', ['https:', 'http:']) ?? 'https://slack.com/api/';
  return (
    app && {
      apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
      webUrl: (read.url('SLACK_WEB_URL', ['https:', 'http:']) ?? 'https://slack.com').replace(/\/+$/, ''),
      clientId: app.SLACK_CLIENT_ID,
      // From a file, a secret usually ends in a newline Slack never signed with.
      clientSecret: app.SLACK_CLIENT_SECRET.trim(),
      signingSecret: app.SLACK_SIGNING_SECRET.trim(),
      previousSigningSecret: read.valueOrFile('SLACK_SIGNING_SECRET_PREVIOUS')?.trim(),
    }
  );
}
