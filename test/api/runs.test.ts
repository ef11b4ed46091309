/**
 * How the API translates what Temporal answers into problems (unit: the client is a stand-in that
 * throws what the SDK throws). A refusal by the server is a 503 to retry, never a 500.
 */
import { ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { HttpProblem } from '../../api/problem';
import { temporalCall } from '../../api/runs';
import type { TemporalAccess } from '../../api/services';

const temporal = {
  client: { withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call() },
} as unknown as TemporalAccess;

async function problemOf(error: Error): Promise<unknown> {
  return temporalCall(temporal, () => Promise.reject(error)).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
}

describe('temporalCall', () => {
  it('answers 503 with Retry-After when Temporal refuses the call (the per-run Update limit), 409 when the workflow is gone, and leaves other errors alone', async () => {
    const limit = await problemOf(
      new ServiceError('Workflow Update failed', {
        cause: new Error(
          '9 FAILED_PRECONDITION: The limit on the total number of distinct updates in this workflow has been reached (2000).',
        ),
      }),
    );
    expect(limit).toBeInstanceOf(HttpProblem);
    expect(limit).toMatchObject({
      status: 503,
      extensions: { errorClass: 'TemporalUnavailable', headers: { 'retry-after': '5' } },
    });
    // The server's text stays out of the answer.
    expect((limit as HttpProblem).detail).not.toMatch(/FAILED_PRECONDITION|2000/);

    expect(await problemOf(new WorkflowNotFoundError('gone', 'integration/x/lifecycle', undefined))).toMatchObject({
      status: 409,
      extensions: { errorClass: 'NotRunning' },
    });

    const bug = new TypeError('not a Temporal error');
    expect(await problemOf(bug)).toBe(bug);
  });
});
