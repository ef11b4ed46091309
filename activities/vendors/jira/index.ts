/** The Jira family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export {
  jiraDescriptor,
  jiraDescriptors,
  JIRA_SCOPES,
  JIRA_PROTOCOL_SCOPES,
  JIRA_REQUESTED_SCOPES,
} from './descriptor';
export { jiraManifest } from './manifest';
export type { JiraApp } from './config';
export {
  verifyJiraWebhook,
  jiraWebhookDeletions,
  jiraVerifier,
  jiraCallbackUrl,
  type JiraWebhookVerification,
  type JiraWebhookDeletions,
} from './webhooks';
export { mapJiraError } from './errors';
export { allowedProjects, projectInClause, syncJql } from './jql';
