/**
 * App-level webhooks (one URL for all of a vendor app's customers: a GitHub App, a Slack app's
 * Events API): an integration's `vendor_subscriptions` row of this resource holds the routing key
 * that binds a verified delivery to it (`route_app_webhook`). Nothing is registered at the vendor.
 */
export const APP_WEBHOOK_RESOURCE = 'app-webhook';
