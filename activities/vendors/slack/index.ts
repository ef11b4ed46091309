/** The Slack family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export { slackDescriptor, slackDescriptors, SLACK_SCOPES } from './descriptor';
export { slackManifest } from './manifest';
export type { SlackApp } from './config';
export { SLACK_CHANNEL_PACE, SLACK_METHOD_TIERS } from './tiers';
export {
  slackDelivery,
  slackRoutingKey,
  slackVerifier,
  verifySlackRequest,
  SLACK_TIMESTAMP_TOLERANCE_S,
  type SlackDelivery,
  type SlackVerification,
} from './webhooks';
