import type { BuiltManifest } from '../manifest';
import { inForce } from '../shared/appSecrets';
import { readGithubApp, type GithubApp } from './config';
import { githubDescriptors } from './descriptor';
import { githubVerifier } from './webhooks';

export const githubManifest: BuiltManifest<GithubApp> = {
  family: 'github',
  status: 'built',
  rows: githubDescriptors,
  sdkPackages: ['@octokit/rest', '@octokit/auth-app'],
  config: readGithubApp,
  // One webhook URL for the whole GitHub App, signed with the app's secret (and, while an operator
  // rotates it, the previous one still verifies: docs/key-management.md).
  webhooks: {
    scheme: 'github-hmac-sha256',
    verifier: () => githubVerifier,
    appSecrets: (app) => inForce(app.webhookSecret, app.previousWebhookSecret),
  },
};
