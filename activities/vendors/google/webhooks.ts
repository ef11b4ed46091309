/**
 * Drive push notifications (`changes.watch` channels) for the API's receiver (T21). Google signs
 * nothing: a channel is authenticated by the `token` we set when we opened it (the endpoint's
 * secret), echoed in `X-Goog-Channel-Token` on every message and compared in constant time. The
 * body is empty; the headers say what happened:
 * - `X-Goog-Resource-State: sync` opens every channel: acknowledged (200), nothing to fetch;
 * - `change` (and the per-file states) asks for an incremental round of the changes feed;
 * - a message whose `X-Goog-Channel-Expiration` has passed is stale and refused like a forgery.
 * `X-Goog-Message-Number` grows per channel: channel id + number (with the token) is the dedup key.
 */
import crypto from 'node:crypto';
import { constantTimeEqual } from '../shared';
import type { WebhookRequest, WebhookVerifier } from '../types';

/** The states Drive sends for a changes channel (`change`) and for file channels. */
const CHANGE_STATES: ReadonlySet<string> = new Set(['change', 'add', 'remove', 'update', 'trash', 'untrash']);
const CHANNEL_ID = /^[A-Za-z0-9_\-:.=]{1,64}$/;

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface ChannelMessage {
  channelId: string;
  state: string;
  messageNumber: string;
}

/** The message when its token is ours and its channel has not expired; undefined otherwise. */
export function authenticChannelMessage(
  request: WebhookRequest,
  secret: string,
  now = Date.now(),
): ChannelMessage | undefined {
  const token = header(request, 'x-goog-channel-token');
  const channelId = header(request, 'x-goog-channel-id');
  const state = header(request, 'x-goog-resource-state');
  const messageNumber = header(request, 'x-goog-message-number');
  if (token === undefined || !constantTimeEqual(token, secret)) return undefined;
  if (!channelId || !CHANNEL_ID.test(channelId) || !state || !messageNumber || !/^\d{1,20}$/.test(messageNumber))
    return undefined;
  const expiration = header(request, 'x-goog-channel-expiration');
  if (expiration !== undefined) {
    const expiresAt = Date.parse(expiration);
    if (Number.isNaN(expiresAt) || expiresAt <= now) return undefined;
  }
  return { channelId, state, messageNumber };
}

/** The API's receiver: the channel token on every message; `sync` is the channel's opening handshake. */
export const driveChannelVerifier: WebhookVerifier = {
  async challenge(request, secret) {
    if (header(request, 'x-goog-resource-state') !== 'sync') return undefined;
    return authenticChannelMessage(request, secret) ? { contentType: 'text/plain', body: '' } : 'unauthenticated';
  },
  async verify(request, secret) {
    const message = authenticChannelMessage(request, secret);
    if (!message || !CHANGE_STATES.has(message.state)) return undefined;
    const deliveryId = crypto
      .createHash('sha256')
      .update(`${secret}\n${message.channelId}\n${message.messageNumber}`)
      .digest('hex');
    return [{ deliveryId, eventType: `drive.${message.state}` }];
  },
};
