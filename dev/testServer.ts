/**
 * The time-skipping test server (Temporal's Java test server, native build): the test stack starts
 * one per run, and a test file may start one of its own (`test/support/temporal.ts`). Started here
 * rather than by the SDK, whose start gives up after 5 s, too short on a loaded machine.
 */
import { Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '@trackproject/integrations-client/searchAttributes';
import { freePort, startProcess, waitForPort, type ManagedProcess } from './processes';

/** Starts the server at `executable` on a free port, with the service's search attributes registered. */
export async function spawnTestServer(
  executable: string,
  log: (line: string) => void,
): Promise<{ process: ManagedProcess; address: string }> {
  const port = await freePort();
  // No `--enable-time-skipping`: like the SDK, start with skipping locked; clients unlock it while
  // they await a result, and the server re-locks during workflow and activity tasks. With the flag
  // the lock count starts one short and the server skips past tasks still being processed.
  const child = startProcess('test-server', executable, [String(port)], { log });
  try {
    await waitForPort(port, 60_000, child.child);
    const address = `127.0.0.1:${port}`;
    await registerSearchAttributes(address);
    return { process: child, address };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The test server validates upserts against registered attributes, like a cluster; it has no start flag for them. */
async function registerSearchAttributes(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTE_KEYS.map((key) => [
          key.name,
          proto.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
        ]),
      ),
    });
  } finally {
    await connection.close();
  }
}
