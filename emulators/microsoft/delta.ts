/**
 * Graph delta query semantics over one collection (a drive root, the app folder, a site's drive, the
 * calendar): server-driven pages (`@odata.nextLink`) until `@odata.deltaLink`; `token=latest` starts
 * "from now"; a later round reports changed items at their latest state, deletions as a `deleted`
 * facet (drive items) or `@removed` (events, directory objects); tokens the test expires answer
 * 410 Gone with a `Location` for a full resync. Tokens are opaque ids of server-side state.
 */
import crypto from 'node:crypto';

export interface StoredItem {
  id: string;
  /** Change sequence of the latest write: what delta rounds compare against. */
  seq: number;
  deleted: boolean;
  data: Record<string, unknown>;
}

export type DeleteStyle = 'deleted-facet' | 'removed-annotation';

interface DeltaToken {
  collection: string;
  fromSeq: number;
  /** Set on nextLink tokens: the round's snapshot bound and how far paging got. */
  toSeq?: number;
  offset?: number;
  initial: boolean;
  expired: boolean;
}

export class DeltaCollection {
  readonly items = new Map<string, StoredItem>();
  private seq = 0;

  constructor(
    readonly key: string,
    readonly deleteStyle: DeleteStyle,
  ) {}

  get latestSeq(): number {
    return this.seq;
  }

  upsert(id: string, data: Record<string, unknown>): StoredItem {
    this.seq += 1;
    const item: StoredItem = { id, seq: this.seq, deleted: false, data: { ...data, id } };
    this.items.set(id, item);
    return item;
  }

  remove(id: string): boolean {
    const item = this.items.get(id);
    if (!item || item.deleted) return false;
    this.seq += 1;
    this.items.set(id, { ...item, seq: this.seq, deleted: true });
    return true;
  }

  /** What the app sees of one item in a delta page. */
  render(item: StoredItem): Record<string, unknown> {
    if (!item.deleted) return item.data;
    return this.deleteStyle === 'deleted-facet'
      ? { id: item.id, deleted: { state: 'deleted' } }
      : { id: item.id, '@removed': { reason: 'deleted' } };
  }
}

export type DeltaResult =
  | { kind: 'page'; value: Record<string, unknown>[]; nextToken?: string; deltaToken?: string }
  | { kind: 'expired' }
  | { kind: 'unknown-token' };

export class DeltaTokens {
  private readonly tokens = new Map<string, DeltaToken>();

  constructor(private readonly pageSize: () => number) {}

  /** Every token issued so far answers 410 from now on (Graph drops old tokens without notice). */
  expireAll(): number {
    for (const token of this.tokens.values()) token.expired = true;
    return this.tokens.size;
  }

  /**
   * One delta request: `cursor` is the token of a nextLink/deltaLink, `'latest'`, or undefined for
   * an initial round.
   */
  page(collection: DeltaCollection, cursor: string | undefined): DeltaResult {
    let state: DeltaToken;
    if (cursor === undefined) state = { collection: collection.key, fromSeq: 0, initial: true, expired: false };
    else if (cursor === 'latest')
      return { kind: 'page', value: [], deltaToken: this.issue(collection.key, collection.latestSeq, false) };
    else {
      const found = this.tokens.get(cursor);
      if (!found || found.collection !== collection.key) return { kind: 'unknown-token' };
      if (found.expired) return { kind: 'expired' };
      state = found;
    }
    const toSeq = state.toSeq ?? collection.latestSeq;
    const offset = state.offset ?? 0;
    const inRound = [...collection.items.values()]
      .filter((item) => item.seq > state.fromSeq && item.seq <= toSeq && !(state.initial && item.deleted))
      .sort((a, b) => a.seq - b.seq);
    const size = this.pageSize();
    const value = inRound.slice(offset, offset + size).map((item) => collection.render(item));
    if (offset + size < inRound.length) {
      return { kind: 'page', value, nextToken: this.store({ ...state, toSeq, offset: offset + size, expired: false }) };
    }
    return { kind: 'page', value, deltaToken: this.issue(collection.key, toSeq, false) };
  }

  private issue(collection: string, fromSeq: number, initial: boolean): string {
    return this.store({ collection, fromSeq, initial, expired: false });
  }

  private store(state: DeltaToken): string {
    const id = crypto.randomBytes(16).toString('base64url');
    this.tokens.set(id, state);
    return id;
  }
}
