/** Waiting on the service's runs through its API, as a backend would, across the outages a trial causes. */
import type { ApiClient } from '../sandboxDriver';

/** A sync that has not ended this long after its fault has hung. */
const SYNC_TIMEOUT_MS = 300_000;
const POLL_MS = 500;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SyncProgress {
  state: string;
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
}

/** Polls the sync's progress until it has ended; an API that cannot answer for a while (an outage) is waited through. */
export async function syncOutcome(api: ApiClient, integrationPath: string): Promise<SyncProgress> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answer = await api<{ progress: SyncProgress }>('GET', `${integrationPath}/sync`, 200).catch(() => undefined);
    const state = answer?.progress.state;
    if (state === 'completed' || state === 'failed') return answer!.progress;
    await sleep(POLL_MS);
  }
  throw new Error(`the sync did not end within ${SYNC_TIMEOUT_MS / 1000} s`);
}
