/**
 * Drive v3 under `drive.file`, as an emulator: the app sees a file only when the user picked it
 * (Picker) or the app created it; anything else is 404 `notFound`, exactly as for a file that does
 * not exist. `files.get`, multipart `files.create`, `changes.getStartPageToken`, `changes.list`
 * (`pageToken` required, `pageSize` ≤ 1000, `nextPageToken` / `newStartPageToken`, `removed: true`
 * for a deletion or a lost grant), `changes.watch` channels (expiration capped at one week, default
 * one hour; an opening `sync` message, then `change` messages with `X-Goog-Channel-Token`,
 * `X-Goog-Resource-State`, `X-Goog-Message-Number`, `X-Goog-Channel-Expiration`) and `channels.stop`.
 * Google delivers only to https addresses with a valid certificate; the emulator also takes http
 * on loopback, the local sandbox's API, where no public certificate can exist.
 */
import crypto from 'node:crypto';
import type { EmulatorClock } from '../shared/clock';
import type { EmulatorRequest, EmulatorResponse, EmulatorRouter } from '../shared/http';
import type { OAuthGrant } from '../shared/oauthAuthority';
import { SCOPE_URIS, apiError, type GoogleAccounts } from './accounts';

export const FOLDER_MIME_TYPE = 'application/vnd.google-apps.folder';
const CHANNEL_MAX_MS = 7 * 24 * 60 * 60_000;
const CHANNEL_DEFAULT_MS = 60 * 60_000;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;

export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  modifiedTime: string;
  version: string;
  trashed: boolean;
  webViewLink: string;
  size: number;
}

interface ChangeEntry {
  seq: number;
  fileId: string;
  time: string;
  /** Set when the entry records that this user lost access to the file. */
  lostFor?: string;
}

interface Channel {
  id: string;
  resourceId: string;
  address: string;
  token?: string;
  expiration: number;
  grantId: string;
  subject: string;
  messageNumber: number;
  stopped: boolean;
}

export interface ChannelDelivery {
  channelId: string;
  state: string;
  status: number;
}

const notFound = (id: string) => apiError(404, `File not found: ${id}.`, 'notFound', 'NOT_FOUND');
const invalid = (message: string) => apiError(400, message, 'invalid', 'INVALID_ARGUMENT');

export class DriveService {
  private readonly files = new Map<string, DriveFile>();
  private readonly deleted = new Set<string>();
  /** Per user: the files the app may see (picked through the Picker, or created by the app). */
  private readonly appAccess = new Map<string, Set<string>>();
  private readonly changes: ChangeEntry[] = [];
  private readonly channels = new Map<string, Channel>();
  private readonly pendingDeliveries: Array<Promise<ChannelDelivery>> = [];
  private seq = 0;

  constructor(private readonly options: { clock: EmulatorClock; accounts: GoogleAccounts; url: () => string }) {}

  // ── control (the user's side: Drive UI, Picker, sharing) ─────────────────────────────
  addFile(input: { name: string; mimeType?: string; parents?: string[] }): string {
    const id = crypto.randomBytes(16).toString('base64url').replace(/[-_]/g, 'x');
    this.files.set(id, {
      id,
      name: input.name,
      mimeType: input.mimeType ?? 'application/pdf',
      parents: input.parents ?? [],
      modifiedTime: new Date(this.options.clock.now()).toISOString(),
      version: '1',
      trashed: false,
      webViewLink: `https://drive.google.com/file/d/${id}/view`,
      size: 0,
    });
    this.record(id);
    return id;
  }

  addFolder(name: string): string {
    return this.addFile({ name, mimeType: FOLDER_MIME_TYPE });
  }

  /** The user picks files in the Picker for our app: per-file access under `drive.file`. */
  pick(subject: string, fileIds: string[]): void {
    const access = this.accessOf(subject);
    for (const id of fileIds) access.add(id);
  }

  renameFile(id: string, name: string): void {
    const file = this.files.get(id)!;
    file.name = name;
    file.version = String(Number(file.version) + 1);
    file.modifiedTime = new Date(this.options.clock.now()).toISOString();
    this.record(id);
  }

  deleteFile(id: string): void {
    this.deleted.add(id);
    this.record(id);
  }

  /** The owner stops sharing the file with the user: the app's grant on it is gone too. */
  loseAccess(subject: string, id: string): void {
    this.accessOf(subject).delete(id);
    this.record(id, subject);
  }

  visibleTo(subject: string): string[] {
    return [...this.accessOf(subject)];
  }

  file(id: string): DriveFile | undefined {
    return this.files.get(id);
  }

  liveChannels(): Array<{ id: string; resourceId: string; expiration: number; address: string }> {
    return [...this.channels.values()]
      .filter((channel) => this.isLive(channel))
      .map(({ id, resourceId, expiration, address }) => ({ id, resourceId, expiration, address }));
  }

  /**
   * Channels neither stopped nor expired, whatever became of their grant: Google does not document
   * that revoking a grant ends its channels, so only `channels.stop` or the expiry closes one.
   */
  unstoppedChannels(): Array<{ id: string; resourceId: string }> {
    return [...this.channels.values()]
      .filter((channel) => !channel.stopped && channel.expiration > this.options.clock.now())
      .map(({ id, resourceId }) => ({ id, resourceId }));
  }

  /** Every push message sent so far, once its receiver answered. */
  deliveries(): Promise<ChannelDelivery[]> {
    return Promise.all(this.pendingDeliveries);
  }

  // ── the API ──────────────────────────────────────────────────────────────────────────
  register(router: EmulatorRouter): void {
    const authed =
      (handler: (request: EmulatorRequest, grant: OAuthGrant) => EmulatorResponse | Promise<EmulatorResponse>) =>
      (request: EmulatorRequest) => {
        const grant = this.options.accounts.authorize(request, [SCOPE_URIS.driveFile]);
        return 'grantId' in grant ? handler(request, grant) : grant;
      };
    router.on(
      'GET',
      '/drive/v3/changes/startPageToken',
      authed(() => this.startPageToken()),
    );
    router.on(
      'GET',
      '/drive/v3/changes',
      authed((request, grant) => this.listChanges(request, grant)),
    );
    router.on(
      'POST',
      '/drive/v3/changes/watch',
      authed((request, grant) => this.watch(request, grant)),
    );
    router.on(
      'POST',
      '/drive/v3/channels/stop',
      authed((request, grant) => this.stop(request, grant)),
    );
    router.on(
      'GET',
      '/drive/v3/files/:fileId',
      authed((request, grant) => this.getFile(request, grant)),
    );
    router.on(
      'POST',
      '/upload/drive/v3/files',
      authed((request, grant) => this.createFile(request, grant)),
    );
  }

  private accessOf(subject: string): Set<string> {
    let access = this.appAccess.get(subject);
    if (!access) this.appAccess.set(subject, (access = new Set()));
    return access;
  }

  private visible(subject: string, id: string): DriveFile | undefined {
    return this.accessOf(subject).has(id) && !this.deleted.has(id) ? this.files.get(id) : undefined;
  }

  private startPageToken(): EmulatorResponse {
    return { status: 200, body: { kind: 'drive#startPageToken', startPageToken: String(this.seq + 1) } };
  }

  private getFile(request: EmulatorRequest, grant: OAuthGrant): EmulatorResponse {
    const file = this.visible(grant.subject, request.params.fileId!);
    return file ? { status: 200, body: { kind: 'drive#file', ...publicFile(file) } } : notFound(request.params.fileId!);
  }

  private listChanges(request: EmulatorRequest, grant: OAuthGrant): EmulatorResponse {
    const pageToken = request.query.get('pageToken');
    if (pageToken === null) return apiError(400, 'Required parameter: pageToken', 'required', 'INVALID_ARGUMENT');
    const from = Number(pageToken);
    if (!/^\d+$/.test(pageToken) || from < 1 || from > this.seq + 1) return invalid('Invalid Value');
    const pageSize = Number(request.query.get('pageSize') ?? DEFAULT_PAGE_SIZE);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) return invalid('Invalid Value');
    const includeRemoved = request.query.get('includeRemoved') !== 'false';
    const page: Record<string, unknown>[] = [];
    let next: number | undefined;
    for (const entry of this.changes) {
      if (entry.seq < from) continue;
      const change = this.changeFor(grant.subject, entry, includeRemoved);
      if (!change) continue;
      if (page.length === pageSize) {
        next = entry.seq;
        break;
      }
      page.push(change);
    }
    return {
      status: 200,
      body: {
        kind: 'drive#changeList',
        changes: page,
        ...(next !== undefined ? { nextPageToken: String(next) } : { newStartPageToken: String(this.seq + 1) }),
      },
    };
  }

  /** A change as this user's app sees it, or undefined when the file is none of its business. */
  private changeFor(subject: string, entry: ChangeEntry, includeRemoved: boolean): Record<string, unknown> | undefined {
    const base = { kind: 'drive#change', changeType: 'file', fileId: entry.fileId, time: entry.time };
    if (entry.lostFor !== undefined)
      return entry.lostFor === subject && includeRemoved ? { ...base, removed: true } : undefined;
    if (!this.accessOf(subject).has(entry.fileId)) return undefined;
    if (this.deleted.has(entry.fileId)) return includeRemoved ? { ...base, removed: true } : undefined;
    return { ...base, removed: false, file: { kind: 'drive#file', ...publicFile(this.files.get(entry.fileId)!) } };
  }

  private createFile(request: EmulatorRequest, grant: OAuthGrant): EmulatorResponse {
    if (request.query.get('uploadType') !== 'multipart') return invalid('uploadType must be multipart here');
    const parts = multipartParts(request);
    if (!parts) return invalid('Bad multipart body');
    const metadata = JSON.parse(parts.metadata) as { name?: string; parents?: string[]; mimeType?: string };
    for (const parent of metadata.parents ?? []) {
      const folder = this.visible(grant.subject, parent);
      if (!folder || folder.mimeType !== FOLDER_MIME_TYPE) return notFound(parent);
    }
    const id = this.addFile({
      name: metadata.name ?? 'Untitled',
      mimeType: metadata.mimeType,
      parents: metadata.parents,
    });
    this.files.get(id)!.size = parts.media.length;
    // Created by the app: visible to it from now on.
    this.accessOf(grant.subject).add(id);
    this.notify(id);
    return { status: 200, body: { kind: 'drive#file', ...publicFile(this.files.get(id)!) } };
  }

  private watch(request: EmulatorRequest, grant: OAuthGrant): EmulatorResponse {
    const pageToken = request.query.get('pageToken');
    if (pageToken === null) return apiError(400, 'Required parameter: pageToken', 'required', 'INVALID_ARGUMENT');
    const body = (request.body ?? {}) as {
      id?: string;
      type?: string;
      address?: string;
      token?: string;
      expiration?: string;
    };
    if (!body.id || body.type !== 'web_hook' || !body.address) return invalid('Invalid channel');
    if (!deliverable(body.address))
      return apiError(
        400,
        `WebHook callback must be HTTPS: ${body.address}`,
        'push.webhookUrlNotHttps',
        'INVALID_ARGUMENT',
      );
    if (this.channels.has(body.id))
      return apiError(400, `Channel id ${body.id} not unique`, 'channelIdNotUnique', 'INVALID_ARGUMENT');
    const now = this.options.clock.now();
    const requested = body.expiration ? Number(body.expiration) : now + CHANNEL_DEFAULT_MS;
    const channel: Channel = {
      id: body.id,
      resourceId: `changes-${grant.subject}`,
      address: body.address,
      token: body.token,
      expiration: Math.min(requested, now + CHANNEL_MAX_MS),
      grantId: grant.grantId,
      subject: grant.subject,
      messageNumber: 0,
      stopped: false,
    };
    this.channels.set(channel.id, channel);
    this.send(channel, 'sync');
    return {
      status: 200,
      body: {
        kind: 'api#channel',
        id: channel.id,
        resourceId: channel.resourceId,
        resourceUri: `${this.options.url()}/drive/v3/changes?alt=json&pageToken=${pageToken}`,
        ...(channel.token !== undefined ? { token: channel.token } : {}),
        expiration: String(channel.expiration),
      },
    };
  }

  private stop(request: EmulatorRequest, grant: OAuthGrant): EmulatorResponse {
    const body = (request.body ?? {}) as { id?: string; resourceId?: string };
    const channel = body.id ? this.channels.get(body.id) : undefined;
    if (!channel || channel.stopped || channel.resourceId !== body.resourceId || channel.subject !== grant.subject)
      return apiError(404, `Channel '${body.id}' not found for project`, 'notFound', 'NOT_FOUND');
    channel.stopped = true;
    return { status: 204 };
  }

  private record(fileId: string, lostFor?: string): void {
    this.seq += 1;
    this.changes.push({ seq: this.seq, fileId, time: new Date(this.options.clock.now()).toISOString(), lostFor });
    this.notify(fileId, lostFor);
  }

  /** Each live channel whose user the change concerns gets a `change` message. */
  private notify(fileId: string, lostFor?: string): void {
    for (const channel of this.channels.values()) {
      if (!this.isLive(channel)) continue;
      if (lostFor !== undefined ? lostFor === channel.subject : this.accessOf(channel.subject).has(fileId))
        this.send(channel, 'change');
    }
  }

  private isLive(channel: Channel): boolean {
    return (
      !channel.stopped && channel.expiration > this.options.clock.now() && this.options.accounts.isLive(channel.grantId)
    );
  }

  private send(channel: Channel, state: 'sync' | 'change'): void {
    channel.messageNumber += 1;
    const headers: Record<string, string> = {
      'x-goog-channel-id': channel.id,
      'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': `${this.options.url()}/drive/v3/changes`,
      'x-goog-resource-state': state,
      'x-goog-message-number': String(channel.messageNumber),
      ...(channel.token !== undefined ? { 'x-goog-channel-token': channel.token } : {}),
    };
    this.pendingDeliveries.push(
      fetch(channel.address, { method: 'POST', headers }).then(
        async (response) => (await response.arrayBuffer(), { channelId: channel.id, state, status: response.status }),
        () => ({ channelId: channel.id, state, status: 0 }),
      ),
    );
  }
}

function publicFile(file: DriveFile): Record<string, unknown> {
  const { size, ...rest } = file;
  return { ...rest, size: String(size) };
}

function deliverable(address: string): boolean {
  const url = new URL(address);
  return (
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
  );
}

/** A `multipart/related` upload: its JSON metadata part and its media part. */
function multipartParts(request: EmulatorRequest): { metadata: string; media: Buffer } | undefined {
  const boundary = /boundary=("?)([^";]+)\1/.exec(String(request.headers['content-type'] ?? ''))?.[2];
  if (!boundary) return undefined;
  const raw = request.rawBody.toString('latin1');
  const parts = raw
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => part.replace(/^\r\n/, '').replace(/\r\n$/, ''));
  if (parts.length !== 2) return undefined;
  const body = (part: string) => part.slice(part.indexOf('\r\n\r\n') + 4);
  return {
    metadata: Buffer.from(body(parts[0]!), 'latin1').toString('utf8'),
    media: Buffer.from(body(parts[1]!), 'latin1'),
  };
}
