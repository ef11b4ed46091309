/**
 * jira.js pointed at one Jira site through Atlassian's API gateway
 * (`{apiBaseUrl}/ex/jira/{cloudId}`; api.atlassian.com in production, the emulator in tests). The
 * client gets `host` and a bare access token, so jira.js's own OAuth manager (hard-coded Atlassian
 * URLs, silent refresh) stays off: refresh is ours (rotation must be stored before use). No retries:
 * 429s surface as typed failures that workflows wait out with durable timers.
 */
import { Version3Client } from 'jira.js';
import { classifyHttpStatus } from '../errors';

export interface AccessibleResource {
  /** The cloud id. */
  id: string;
  url: string;
  name: string;
  scopes: string[];
}

export function createJiraClient(apiBaseUrl: string, cloudId: string, accessToken: string): Version3Client {
  return new Version3Client({
    host: `${apiBaseUrl}/ex/jira/${encodeURIComponent(cloudId)}`,
    authentication: { oauth2: { accessToken } },
  });
}

/** Sites the grant reaches (`GET /oauth/token/accessible-resources`): jira.js only calls it with atlassian.com hard-coded. */
export async function listAccessibleResources(apiBaseUrl: string, accessToken: string): Promise<AccessibleResource[]> {
  const response = await fetch(`${apiBaseUrl}/oauth/token/accessible-resources`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
  });
  if (!response.ok)
    throw classifyHttpStatus('jira', response.status, 'accessible-resources', response.headers.get('retry-after'));
  return (await response.json()) as AccessibleResource[];
}
