/** The GitHub family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export { githubDescriptor, githubDescriptors, githubRequestedPermissions, GITHUB_SCOPES } from './descriptor';
export { githubManifest } from './manifest';
export type { GithubApp } from './config';
export {
  verifyGithubWebhook,
  githubWebhookDeletions,
  githubRoutingKey,
  githubVerifier,
  type GithubWebhookVerification,
  type GithubWebhookDeletions,
} from './webhooks';
export { mapGithubError } from './errors';
