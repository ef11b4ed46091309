/**
 * Deterministic in-memory vendor for workflow tests: a record set with a change log, paged
 * listings (`list:<offset>:<seq>`) and delta cursors (`delta:<seq>`), plus injectable failures
 * (429 with Retry-After, 410 on a delta). Every call goes through the context's auditor.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { missingPermission, VendorError, VendorFailureType } from '../activities/vendors/errors';
import type {
  Connector,
  ConnectorContext,
  Subscription,
  SyncPage,
  TokenSet,
  VendorDescriptor,
  VendorId,
} from '../activities/vendors/types';

export const MEMORY_VENDOR = 'github' as const;

export const memoryDescriptor: VendorDescriptor = {
  id: MEMORY_VENDOR,
  displayName: 'Memory (test)',
  scopes: { required: ['repo:read'], optional: ['issues:write'] },
  authKind: 'oauth2-pkce',
  pkce: true,
  customerControl: { kind: 'repos', description: 'test' },
  dataIn: ['issues'],
  dataOut: ['create-record'],
  syncResources: ['issues'],
  syncMode: 'webhook-and-delta',
  rateLimit: { requestsPerMinute: 5_000 },
  webhook: { scheme: 'none' },
  revocation: { kind: 'revoke-endpoint', note: 'token revoked at the vendor' },
  cacheTtlMs: 24 * 60 * 60 * 1000,
};

/**
 * The memory vendor with webhook subscriptions (as Google channels or Graph subscriptions): connect
 * registers `subscriptionsOnRegister`, and ending one needs the grant that made it.
 */
export const memorySubscribingDescriptor: VendorDescriptor = {
  ...memoryDescriptor,
  webhook: { scheme: 'google-channel-token' },
};

/**
 * Waits like a vendor request whose client aborts when the activity is cancelled (as an SDK given
 * the activity's cancellation signal does): the vendor got the request, the answer is lost.
 */
function cancellableDelay(ms: number): Promise<void> {
  const signal = activityCancellationSignal();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new CancelledFailure('request aborted: activity cancelled'));
    });
  });
}

function activityCancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // outside an activity (benchmarks)
  }
}

type Failure = { kind: 'rate-limit'; retryAfterMs: number } | { kind: 'cursor-expired' };

export class MemoryConnector implements Connector {
  /** The rows it stands in for (default the memory row) and the scope its listings are called under. */
  readonly vendors: readonly VendorId[];
  private readonly listScope: string;
  readonly records = new Map<string, { title: string; seq: number }>();
  private readonly log: Array<{ seq: number; id: string; deleted: boolean }> = [];
  private seq = 0;
  readonly failures: Failure[] = [];
  readonly revokedTokens: string[] = [];
  fetchCalls = 0;
  /** Tokens the exchange hands out; tests seed a canary here. */
  nextTokens: TokenSet = {
    accessToken: 'memory-access',
    refreshToken: 'memory-refresh',
    grantedScopes: ['repo:read'],
    expiresAt: undefined,
  };

  /** Latency of every page request: makes a sync slow enough to kill a worker in the middle of it. */
  pageDelayMs = 0;
  /** Latency of a data-out request once sent: makes one slow enough to stop a worker while it is in flight. */
  actionDelayMs = 0;
  /** Called as a data-out request reaches the vendor (a test times a shutdown on it). */
  onActionReceived?: (title: string) => void;

  constructor(
    private readonly pageSize = 100,
    row: { vendors: readonly VendorId[]; listScope: string } = { vendors: [MEMORY_VENDOR], listScope: 'repo:read' },
  ) {
    this.vendors = row.vendors;
    this.listScope = row.listScope;
  }

  upsert(id: string, title: string): void {
    this.seq += 1;
    this.records.set(id, { title, seq: this.seq });
    this.log.push({ seq: this.seq, id, deleted: false });
  }

  remove(id: string): void {
    this.seq += 1;
    this.records.delete(id);
    this.log.push({ seq: this.seq, id, deleted: true });
  }

  authorizeUrl(
    _vendor: string,
    request: { state: string; redirectUri: string; scopes: readonly string[]; codeChallenge?: string },
  ): string {
    const url = new URL('https://vendor.invalid/authorize');
    url.searchParams.set('state', request.state);
    url.searchParams.set('scope', request.scopes.join(' '));
    if (request.codeChallenge) url.searchParams.set('code_challenge', request.codeChallenge);
    return url.toString();
  }

  async exchangeCode(): Promise<TokenSet> {
    return { ...this.nextTokens };
  }

  /**
   * A refresh issues a new access token living one more `tokenLifetimeMs` past the old expiry:
   * lifetimes extend the seeded expiry rather than the process clock, because on the
   * time-skipping server workflow time runs ahead of the activities' wall clock.
   */
  tokenLifetimeMs = 60 * 60 * 1000;
  refreshCalls = 0;
  /** Makes the next token test (`testConnection`) fail, as a vendor refusing a new credential would. */
  failNextTest = false;

  async refresh(ctx: ConnectorContext): Promise<TokenSet> {
    return ctx.audit({ action: 'oauth.refresh', scope: 'repo:read' }, async () => {
      this.refreshCalls += 1;
      const expiresAt =
        ctx.credential.expiresAt === undefined ? undefined : ctx.credential.expiresAt + this.tokenLifetimeMs;
      return { ...ctx.credential, accessToken: `${ctx.credential.accessToken}+`, expiresAt };
    });
  }

  readonly testedTokens: string[] = [];
  /** Credentials (by access token or key) the vendor finds lacking a permission, as a service account missing a role. */
  readonly missingPermissions = new Map<string, string>();

  async testConnection(ctx: ConnectorContext): Promise<void> {
    await ctx.audit({ action: 'user.get', scope: 'repo:read' }, async () => {
      this.testedTokens.push(ctx.credential.accessToken);
      const lacking = this.missingPermissions.get(ctx.credential.accessToken);
      if (lacking) throw missingPermission(MEMORY_VENDOR, lacking);
      if (this.failNextTest) {
        this.failNextTest = false;
        throw new VendorError(VendorFailureType.ReauthorizationRequired, MEMORY_VENDOR, 'credential refused (401)', {
          status: 401,
        });
      }
    });
  }

  async revoke(ctx: ConnectorContext): Promise<{ revoked: boolean; note: string }> {
    return ctx.audit({ action: 'oauth.revoke', scope: 'repo:read' }, async () => {
      this.grantCalls.push('revoke');
      this.revokedTokens.push(ctx.credential.accessToken);
      return { revoked: true, note: 'grant revoked' };
    });
  }

  /** What `registerWebhooks` subscribes (under `memorySubscribingDescriptor`); none by default. */
  subscriptionsOnRegister: Subscription[] = [];
  /** Subscriptions live at the vendor: registered and not deleted yet. */
  readonly liveSubscriptions = new Set<string>();
  /** Every grant-changing call in order (`revoke`, `unsubscribe:<id>`), to check teardown orders. */
  readonly grantCalls: string[] = [];

  async registerWebhooks(ctx: ConnectorContext): Promise<Subscription[]> {
    return ctx.audit({ action: 'webhooks.register', scope: 'repo:read' }, async () => {
      for (const subscription of this.subscriptionsOnRegister) this.liveSubscriptions.add(subscription.externalId);
      return this.subscriptionsOnRegister.map((subscription) => ({ ...subscription }));
    });
  }

  /** Per subscription: its vendor-side expiry and lifetime; a renewal extends from the old expiry (see `refresh`). */
  readonly subscriptions = new Map<string, { expiresAt: number; lifetimeMs: number; renewals: number }>();

  async renewSubscription(_ctx: ConnectorContext, subscription: { externalId: string; resource: string }) {
    const known = this.subscriptions.get(subscription.externalId);
    if (!known) return subscription;
    known.expiresAt += known.lifetimeMs;
    known.renewals += 1;
    return { ...subscription, expiresAt: known.expiresAt };
  }

  /** Like Google's `channels.stop`: a revoked grant's token can no longer end its subscription (401). */
  async deleteSubscription(ctx: ConnectorContext, subscription: Subscription): Promise<void> {
    await ctx.audit({ action: 'webhooks.delete', scope: 'repo:read' }, async () => {
      this.grantCalls.push(`unsubscribe:${subscription.externalId}`);
      if (this.revokedTokens.includes(ctx.credential.accessToken))
        throw new VendorError(VendorFailureType.ReauthorizationRequired, MEMORY_VENDOR, 'grant revoked (401)', {
          status: 401,
        });
      this.liveSubscriptions.delete(subscription.externalId);
    });
  }

  async fetchPage(ctx: ConnectorContext, input: { resource: string; cursor: string | null }): Promise<SyncPage> {
    return ctx.audit({ action: `${input.resource}.list`, scope: this.listScope }, async () => {
      this.fetchCalls += 1;
      if (this.pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pageDelayMs));
      const failure = this.failures.shift();
      if (failure?.kind === 'rate-limit')
        throw new VendorError(VendorFailureType.RateLimited, MEMORY_VENDOR, 'rate limited (429)', {
          source: 'vendor',
          status: 429,
          retryAfterMs: failure.retryAfterMs,
        });
      if (failure?.kind === 'cursor-expired' && input.cursor?.startsWith('delta:'))
        throw new VendorError(VendorFailureType.CursorExpired, MEMORY_VENDOR, 'cursor expired (410)', { status: 410 });
      if (input.cursor?.startsWith('delta:')) return this.delta(input.resource, Number(input.cursor.slice(6)));
      const [, offsetText, seqText] = (input.cursor ?? `list:0:${this.seq}`).split(':');
      return this.listing(input.resource, Number(offsetText), Number(seqText));
    });
  }

  /** `create-record` adds a record titled `input.title` and answers its id; the vendor acts once per request. */
  async perform(
    ctx: ConnectorContext,
    action: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return ctx.audit({ action, scope: 'issues:write' }, async () => {
      if (action !== 'create-record' || typeof input.title !== 'string') {
        throw new VendorError(VendorFailureType.OutsideCustomerControls, MEMORY_VENDOR, 'unsupported data out');
      }
      this.onActionReceived?.(input.title);
      if (this.actionDelayMs > 0) await cancellableDelay(this.actionDelayMs);
      const externalId = `created-${this.seq + 1}`;
      this.upsert(externalId, input.title);
      return { externalId };
    });
  }

  private listing(resource: string, offset: number, snapshotSeq: number): SyncPage {
    const ids = [...this.records.keys()].sort();
    const slice = ids.slice(offset, offset + this.pageSize);
    const done = offset + this.pageSize >= ids.length;
    return {
      records: slice.map((id) => ({
        resource,
        externalId: id,
        version: String(this.records.get(id)!.seq),
        payload: { title: this.records.get(id)!.title },
      })),
      deletedExternalIds: [],
      // A listing ends with the delta cursor of the moment it started: changes during it are replayed.
      nextCursor: done ? `delta:${snapshotSeq}` : `list:${offset + this.pageSize}:${snapshotSeq}`,
      roundComplete: done,
    };
  }

  private delta(resource: string, sinceSeq: number): SyncPage {
    // The log holds one entry per seq, in order (log[i].seq === i + 1): a delta is a slice.
    const changes = this.log.slice(sinceSeq, sinceSeq + this.pageSize);
    const last = changes.at(-1)?.seq ?? sinceSeq;
    const done = last >= this.seq;
    const live = changes.filter((c) => !c.deleted && this.records.has(c.id));
    return {
      records: live.map((c) => ({
        resource,
        externalId: c.id,
        version: String(this.records.get(c.id)!.seq),
        payload: { title: this.records.get(c.id)!.title },
      })),
      deletedExternalIds: changes.filter((c) => c.deleted).map((c) => c.id),
      nextCursor: `delta:${last}`,
      roundComplete: done,
    };
  }
}
