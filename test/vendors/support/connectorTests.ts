/** What every connector test file does the same way: its harness, a whole sync round, a typed failure. */
import crypto from 'node:crypto';
import { createVendorCallAuditor } from '../../../activities/vendors/audited';
import { VendorError } from '../../../activities/vendors/errors';
import type { Connector, ConnectorContext, SourceRecord, VendorId } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';

/**
 * Starts the file's harness once before its tests (emulators are slow to start) and stops its
 * emulator after them; `use` hands the started harness to the file's variable.
 */
export function harnessForFile<H extends { emulator: { stop(): Promise<void> } }>(
  start: () => Promise<H>,
  use: (harness: H) => void,
): void {
  let started: H | undefined;
  beforeAll(async () => {
    started = await start();
    use(started);
  });
  afterAll(async () => {
    await started?.emulator.stop();
  });
}

export interface Round {
  records: SourceRecord[];
  /** External ids the round's pages reported deleted. */
  deleted: string[];
  /** The cursor the next round starts from. */
  cursor: string | null;
  pages: number;
}

/** A round that has not completed after this many pages is a connector that never ends one. */
const MAX_PAGES = 200;

/** Fetches the pages of one sync round of `resource` from `cursor` until the connector says it is complete. */
export async function fullRound(
  connector: Pick<Connector, 'fetchPage'>,
  ctx: ConnectorContext,
  resource: string,
  cursor: string | null,
): Promise<Round> {
  const records: SourceRecord[] = [];
  const deleted: string[] = [];
  let pages = 0;
  for (;;) {
    const page = await connector.fetchPage(ctx, { resource, cursor });
    pages += 1;
    records.push(...page.records);
    deleted.push(...page.deletedExternalIds);
    cursor = page.nextCursor;
    if (page.roundComplete) return { records, deleted, cursor, pages };
    if (pages > MAX_PAGES) throw new Error(`the ${resource} round does not end`);
  }
}

/** Expects `promise` to fail with a VendorError (of `type` when given) and answers it. */
export async function expectVendorError(promise: Promise<unknown>, type?: string): Promise<VendorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VendorError);
  if (type !== undefined) expect((error as VendorError).type).toBe(type);
  return error as VendorError;
}

/**
 * The context of a connector that signs in with a submitted service account (its credential is the
 * admin's form, as JSON), with the audit entries its calls record.
 */
export function serviceAccountContext(options: {
  vendor: VendorId;
  credential: Record<string, string>;
  scopes: string[];
  /** The scopes the credential holds; the connect test runs before any is granted. */
  grantedScopes?: string[];
  controls?: Record<string, string[]>;
}): ConnectorContext & { auditEntries: AuditEntry[] } {
  const workspaceId = crypto.randomUUID();
  const entries: AuditEntry[] = [];
  return {
    workspaceId,
    integrationId: crypto.randomUUID(),
    vendor: options.vendor,
    credential: { accessToken: JSON.stringify(options.credential), grantedScopes: options.grantedScopes ?? [] },
    scopes: options.scopes,
    controls: options.controls ?? {},
    audit: createVendorCallAuditor({
      sink: { record: async (entry) => void entries.push(entry) },
      workspaceId,
      vendor: options.vendor,
      actor: { type: 'workflow', id: 'test-workflow' },
      ...(options.grantedScopes ? { consentedScopes: options.grantedScopes } : {}),
    }),
    auditEntries: entries,
  };
}
