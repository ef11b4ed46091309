export { githubDescriptor, githubDescriptors, githubRequestedPermissions, GITHUB_SCOPES } from './descriptor';
export { createGithubConnector, type GithubConnectorOptions } from './connector';
export {
  verifyGithubWebhook,
  githubWebhookDeletions,
  type GithubWebhookVerification,
  type GithubWebhookDeletions,
} from './webhooks';
export { mapGithubError } from './errors';
