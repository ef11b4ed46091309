import type { BuiltManifest } from '../manifest';
import { inForce } from '../shared/appSecrets';
import { readSlackApp, type SlackApp } from './config';
import { slackDescriptors } from './descriptor';
import { slackVerifier } from './webhooks';

export const slackManifest: BuiltManifest<SlackApp> = {
  family: 'slack',
  status: 'built',
  rows: slackDescriptors,
  sdkPackages: ['@slack/web-api'],
  config: readSlackApp,
  // One Events API Request URL for the whole Slack app, signed with the app's signing secret (and,
  // while an operator rotates it, the previous one still verifies: docs/key-management.md).
  webhooks: {
    scheme: 'slack-signing-secret',
    verifier: () => slackVerifier,
    appSecrets: (app) => inForce(app.signingSecret, app.previousSigningSecret),
  },
};
