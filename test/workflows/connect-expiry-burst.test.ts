/**
 * Regression for issue #18 item 8: the worker aborted natively ("async hook stack has become
 * corrupted") in a workflow thread when many connect runs left waiting for consent expired
 * together. Hundreds of connects on one worker time out in one burst on the time-skipping server:
 * the worker must keep running and every run must end expired and compensated.
 */
import { connectStateQuery } from '../../workflows/definitions';
import { ISOLATE_EXECUTION_TIMEOUT } from '../../workers/createWorker';
import type { Harness } from './support/harness';
import { pollUntil, seedWorkspace, startConnectRun, useTimeSkippingWorkers } from './support/workflowHelpers';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';

const CONNECTS = 200;

describe('many connects expiring together (time-skipping server, real Postgres)', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let taskQueue: string;
  useTimeSkippingWorkers('connect-burst', (parts) => ({ h, env, worker, taskQueue } = parts));

  it(`${CONNECTS} connects waiting for consent expire in one burst: the worker survives and every run is compensated`, async () => {
    // The workaround: activations get a wall-clock budget a loaded host does not exceed (SDK default 5 s).
    expect(ISOLATE_EXECUTION_TIMEOUT).toBe('60s');
    expect(worker.options.isolateExecutionTimeoutMs).toBe(60_000);
    const workspaceId = await seedWorkspace(h);
    await worker.runUntil(async () => {
      const runs = await Promise.all(
        Array.from({ length: CONNECTS }, () => startConnectRun(env.client, taskQueue, { workspaceId })),
      );
      // Every run holds its consent timer before the clock may jump, so all of them fire together.
      await Promise.all(
        runs.map(({ handle }) =>
          pollUntil(
            () => handle.query(connectStateQuery),
            (s) => s.status === 'awaiting-consent',
            120_000,
          ),
        ),
      );
      // One result lets the server skip the 15 minutes; the others are then already settled.
      for (const { handle } of runs) expect(await handle.result()).toEqual({ status: 'expired' });
      expect(worker.getState()).toBe('RUNNING');
    });

    const statuses = (await h.admin('integrations').where({ workspace_id: workspaceId }).select('status')).map(
      (row) => row.status,
    );
    expect(statuses).toEqual(Array(CONNECTS).fill('failed'));
    expect(await h.admin('oauth_states').where({ workspace_id: workspaceId })).toEqual([]);
    expect(
      await h
        .admin('secrets')
        .where({ workspace_id: workspaceId })
        .whereNot({ state: 'destroyed' })
        .select('secret_id'),
    ).toEqual([]);
  }, 600_000);
});
