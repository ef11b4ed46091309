/** API process bootstrap: config (core + vendor apps) → `startApi`, with a clean shutdown on SIGINT/SIGTERM. */
import { readServiceConfig } from '../activities/vendors/catalog';
import { loadConfigOrExit } from '../lib/config';
import { startApi } from './app';

async function main(): Promise<void> {
  const api = await startApi(loadConfigOrExit(process.env, readServiceConfig));
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await api.close();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  process.stderr.write(`api failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
