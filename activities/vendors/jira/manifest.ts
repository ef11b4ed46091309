import type { BuiltManifest } from '../manifest';
import { readJiraApp, type JiraApp } from './config';
import { jiraDescriptors } from './descriptor';
import { jiraVerifier } from './webhooks';

export const jiraManifest: BuiltManifest<JiraApp> = {
  family: 'jira',
  status: 'built',
  rows: jiraDescriptors,
  sdkPackages: ['jira.js'],
  config: readJiraApp,
  // Deliveries are signed with our app's client secret: no app, no verifier.
  webhooks: { scheme: 'jira-jwt', verifier: (app) => app && jiraVerifier(app) },
};
