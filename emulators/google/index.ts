/**
 * The Google emulator: accounts (OAuth 2.0 + OIDC), the OAuth endpoints and Drive v3 on one local
 * origin. `startGoogleEmulator({ redirectUris })` → `{ url, clientId, clientSecret, requests, control, stop() }`;
 * point `GOOGLE_ACCOUNTS_URL`, `GOOGLE_OAUTH2_URL` and `GOOGLE_API_URL` at `url`.
 */
import crypto from 'node:crypto';
import { createEmulatorClock } from '../shared/clock';
import { EmulatorRouter, startEmulatorServer, type LoggedRequest } from '../shared/http';
import { createRateStorm, tooManyRequests } from '../shared/rateStorm';
import { GoogleAccounts, apiError, type GoogleUser, type IdTokenForgery } from './accounts';
import { DriveService } from './drive';

export { FOLDER_MIME_TYPE, type ChannelDelivery, type DriveFile } from './drive';
export type { GoogleUser, IdTokenForgery } from './accounts';

export interface GoogleEmulatorOptions {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  /** The browser's signed-in user (default: a Workspace user of `acme.example`). */
  user?: GoogleUser;
}

export const DEFAULT_GOOGLE_USER: GoogleUser = {
  subject: '108234567890123456789',
  email: 'ana.site-lead@acme.example',
  name: 'Ana Site-Lead',
  hd: 'acme.example',
};

/** How Drive tells a client to slow down: 429 with Retry-After, or a quota 403 with its reason. */
export type DriveThrottle = '429' | 'userRateLimitExceeded' | 'rateLimitExceeded';

export async function startGoogleEmulator(options: GoogleEmulatorOptions) {
  const clock = createEmulatorClock();
  const client = {
    clientId: options.clientId ?? `${crypto.randomInt(100_000_000, 999_999_999)}-sandbox.apps.googleusercontent.com`,
    clientSecret: options.clientSecret ?? `GOCSPX-${crypto.randomBytes(18).toString('base64url')}`,
    redirectUris: options.redirectUris,
  };
  let url = '';
  const accounts = new GoogleAccounts({ clock, issuer: () => url, client, user: options.user ?? DEFAULT_GOOGLE_USER });
  const drive = new DriveService({ clock, accounts, url: () => url });
  const router = new EmulatorRouter();
  accounts.register(router);
  drive.register(router);
  const storm = createRateStorm();
  const server = await startEmulatorServer({
    router,
    // Throttling applies to the Drive API, not to the sign-in pages.
    before: (request) => (/^\/(upload\/)?drive\//.test(request.path) ? storm.intercept() : undefined),
  });
  url = server.url;
  const user = () => options.user ?? DEFAULT_GOOGLE_USER;
  const control = {
    clock,
    requests: server.requests as LoggedRequest[],
    addUser: (added: GoogleUser) => accounts.addUser(added),
    signIn: (subject: string) => accounts.signIn(subject),
    forgeNextIdToken: (forgery: IdTokenForgery) => accounts.forgeNextIdToken(forgery),
    /** The user removes the app in their Google Account: every grant of theirs ends. */
    revokeUserGrants: (subject = user().subject) => accounts.authority.revokeSubject(client.clientId, subject),
    addFile: (input: { name: string; mimeType?: string; parents?: string[] }) => drive.addFile(input),
    addFolder: (name: string) => drive.addFolder(name),
    pick: (fileIds: string[], subject = user().subject) => drive.pick(subject, fileIds),
    renameFile: (id: string, name: string) => drive.renameFile(id, name),
    deleteFile: (id: string) => drive.deleteFile(id),
    loseAccess: (id: string, subject = user().subject) => drive.loseAccess(subject, id),
    file: (id: string) => drive.file(id),
    visibleFiles: (subject = user().subject) => drive.visibleTo(subject),
    channels: () => drive.liveChannels(),
    unstoppedChannels: () => drive.unstoppedChannels(),
    deliveries: () => drive.deliveries(),
    throttle(count: number, kind: DriveThrottle, retryAfterSeconds = 2) {
      storm.start(
        count,
        kind === '429'
          ? tooManyRequests(
              retryAfterSeconds,
              {},
              { error: { code: 429, message: 'Rate Limit Exceeded', status: 'RESOURCE_EXHAUSTED' } },
            )
          : apiError(403, 'Rate Limit Exceeded', kind, 'PERMISSION_DENIED', {
              'retry-after': String(retryAfterSeconds),
            }),
      );
    },
  };
  return { url, ...client, requests: server.requests, control, stop: () => server.stop() };
}

export type GoogleEmulator = Awaited<ReturnType<typeof startGoogleEmulator>>;
