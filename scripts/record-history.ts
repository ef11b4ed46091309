/**
 * `npm run record-history -- --workflow-id <id> [--run-id <id>] --name <fixture name>`
 *
 * Saves the history of a run on the Temporal this configuration points at (the local dev server of
 * `npm start` by default; TEMPORAL_ADDRESS etc. otherwise) as a replay fixture, its payloads
 * decrypted with this deployment's codec keys so it replays with no key. For development and
 * staging runs only: a decrypted history holds whatever the run's inputs held. Refuses to run with
 * NODE_ENV=production and never overwrites a fixture (docs/workflow-versioning.md).
 */
import { parseArgs } from 'node:util';
import { connectClient } from '../lib/temporal/connection';
import { codecKeysFromConfig } from '../lib/temporal/codec';
import { EncryptionCodec } from '@trackproject/integrations-client/codec';
import { loadConfigOrExit } from '../lib/config';
import { historyToJson } from '../dev/historyJson';
import { decodeHistoryJson, saveFixture } from '../dev/historyFixtures';

function fail(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run record-history -- --workflow-id <id> [--run-id <id>] --name <fixture name>\n`,
  );
  process.exit(64); // EX_USAGE
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'workflow-id': { type: 'string' }, 'run-id': { type: 'string' }, name: { type: 'string' } },
  });
  if (!values['workflow-id']) fail('--workflow-id is required');
  if (!values.name) fail('--name is required (e.g. syncWorkflow-after-batching)');
  const config = loadConfigOrExit();
  if (config.env === 'production') fail('refusing to decrypt production histories into the repository');
  const client = await connectClient(config);
  try {
    const history = await client.workflow.getHandle(values['workflow-id']!, values['run-id']).fetchHistory();
    const codec = new EncryptionCodec(codecKeysFromConfig(config));
    const file = saveFixture(values.name!, await decodeHistoryJson(historyToJson(history), codec));
    process.stdout.write(`${file}: ${history.events?.length ?? 0} events\n`);
  } finally {
    await client.connection.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
