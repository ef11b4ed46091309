/** Our Atlassian 3LO app registration (not customer credentials), read once at start-up. */
import type { ConfigReader } from '../../../lib/config';

export interface JiraApp {
  authUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

export function readJiraApp(read: ConfigReader): JiraApp | undefined {
  const app = read.app('Jira', {
    JIRA_CLIENT_ID: read.str('JIRA_CLIENT_ID'),
    JIRA_CLIENT_SECRET: read.valueOrFile('JIRA_CLIENT_SECRET'),
  });
  return (
    app && {
      authUrl: read.url('JIRA_AUTH_URL', ['https:', 'http:']) ?? 'https://auth.atlassian.com',
      apiUrl: read.url('JIRA_API_URL', ['https:', 'http:']) ?? 'https://api.atlassian.com',
      clientId: app.JIRA_CLIENT_ID,
      clientSecret: app.JIRA_CLIENT_SECRET,
    }
  );
}
