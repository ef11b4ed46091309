/**
 * The Jira source of `npm run bench:sync` (`BENCH_SOURCE=jira`): the Jira emulator holding the
 * benchmark's issues and the real connector (jira.js over HTTP), consented through the emulator's
 * 3LO flow like an admin would. Jira was picked over GitHub: one project holds any number of issues
 * behind one JQL query with `nextPageToken` paging (GitHub pages per repository, with installation
 * tokens and a 5,000/h primary limit the emulator enforces).
 *
 * The budget is lifted here and only here: the connector gets an unlimited budgets object through
 * the factory's `budgets` parameter, and the sync workflow's per-integration page budget comes from
 * the registered descriptor, a copy of Jira's with a per-minute limit no sync reaches. Production
 * builds its registry from the catalog (`workers/vendors.ts` `createVendorRegistry`) and never sees either.
 */
import crypto from 'node:crypto';
import { JIRA_REQUESTED_SCOPES, JIRA_SCOPES, jiraDescriptor } from '../activities/vendors/jira';
import type { VendorRegistration } from '../activities/vendors/registry';
import type { VendorBudgets } from '../activities/vendors/shared';
import type { VendorCallAuditor, VendorDescriptor } from '../activities/vendors/types';
import { startJiraEmulator } from '../emulators/jira';
import { CONNECTOR_FACTORIES } from '../workers/vendors';

/** Takes nothing and blocks nothing: the benchmark measures the sync, not the vendor's pacing. */
const UNLIMITED_BUDGETS: VendorBudgets = {
  take: () => Promise.resolve(),
  block: () => Promise.resolve(),
};

/** Jira's row with a per-minute page budget far above what one sync can spend (finite: it crosses JSON). */
const benchDescriptor: VendorDescriptor = {
  ...jiraDescriptor,
  rateLimit: { ...jiraDescriptor.rateLimit, requestsPerMinute: 1_000_000_000 },
};

const REDIRECT_URI = 'https://integrations.bench/v1/oauth/callback/jira';
/** The measured project and the warm-up's, so the warm-up's issues are never in the measured round. */
export const JIRA_BENCH_PROJECT = 'BENCH';
export const JIRA_WARM_UP_PROJECT = 'WARM';
/** Issues are spaced this far apart in `updated`, like a busy site over the past days. */
const ISSUE_SPACING_MS = 1_000;
/** Jira's cap on issues per search page when fields are returned (the connector asks for it). */
export const JIRA_PAGE_SIZE = 100;

export interface JiraBenchSource {
  registration: VendorRegistration;
  scopes: string[];
  /** The integration's OAuth credential, as the secret store keeps it. */
  credential: string;
  stop(): Promise<void>;
}

/** Starts the emulator with `warmUp` issues in WARM, then `records` in BENCH, and consents once. */
export async function startJiraBenchSource(counts: { records: number; warmUp: number }): Promise<JiraBenchSource> {
  const app = {
    clientId: crypto.randomBytes(16).toString('hex'),
    clientSecret: crypto.randomBytes(32).toString('hex'),
  };
  const emulator = await startJiraEmulator({
    ...app,
    redirectUris: [REDIRECT_URI],
    appScopes: [...JIRA_REQUESTED_SCOPES],
  });
  const { control } = emulator;
  control.addProject(JIRA_WARM_UP_PROJECT);
  control.addProject(JIRA_BENCH_PROJECT);
  // Back-dated so the newest issue is updated about now; tokens are issued after, at the real time.
  control.clock.advance(-(counts.records + counts.warmUp) * ISSUE_SPACING_MS);
  for (let n = 0; n < counts.warmUp + counts.records; n++) {
    control.addIssue(n < counts.warmUp ? JIRA_WARM_UP_PROJECT : JIRA_BENCH_PROJECT, `Punch list item ${n}`);
    control.clock.advance(ISSUE_SPACING_MS);
  }
  const connector = CONNECTOR_FACTORIES.jira(
    { authUrl: emulator.url, apiUrl: emulator.url, ...app },
    UNLIMITED_BUDGETS,
  );
  const consent = await fetch(
    connector.authorizeUrl('jira', {
      state: crypto.randomUUID(),
      redirectUri: REDIRECT_URI,
      scopes: jiraDescriptor.scopes.required,
    }),
    { redirect: 'manual' },
  );
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  // The consent is set-up, not measured: its two calls skip the audit log.
  const unaudited: VendorCallAuditor = (_call, run) => run();
  const tokens = await connector.exchangeCode('jira', { code, redirectUri: REDIRECT_URI, audit: unaudited });
  return {
    registration: { descriptor: benchDescriptor, connector },
    scopes: [...JIRA_SCOPES],
    credential: JSON.stringify(tokens),
    stop: () => emulator.stop(),
  };
}
