export {
  jiraDescriptor,
  jiraDescriptors,
  JIRA_SCOPES,
  JIRA_PROTOCOL_SCOPES,
  JIRA_REQUESTED_SCOPES,
} from './descriptor';
export { createJiraConnector, type JiraConnectorOptions } from './connector';
export {
  verifyJiraWebhook,
  jiraWebhookDeletions,
  type JiraWebhookVerification,
  type JiraWebhookDeletions,
} from './webhooks';
export { mapJiraError } from './errors';
export { allowedProjects, projectInClause, syncJql } from './jql';
