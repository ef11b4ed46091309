/**
 * `@slack/web-api` pointed at our Web API base (slack.com in production, the emulator in tests).
 * No retries and rate-limited calls rejected: a 429 surfaces as a typed failure the workflow waits
 * out with a durable timer, never a sleep inside an activity. The SDK's logger is silenced: its
 * debug lines carry request bodies, and nothing of a request may reach our logs (T25).
 */
import { LogLevel, WebClient, type Logger } from '@slack/web-api';

const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/** A request that hangs is cut here; the activity retry policy decides what happens next. */
const REQUEST_TIMEOUT_MS = 30_000;

export function createSlackClient(apiUrl: string, token?: string): WebClient {
  return new WebClient(token, {
    slackApiUrl: apiUrl,
    // Method names never become URLs of their own: every call stays under `apiUrl`.
    allowAbsoluteUrls: false,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: REQUEST_TIMEOUT_MS,
    logger: SILENT,
  });
}
