/**
 * The SDK's OpenTelemetry interceptors, set up once for the client, the worker and the replayer
 * (`test/workflows/replay.test.ts` replays with exactly the worker's set).
 *
 * The client interceptor puts the caller's span context into the start/update/signal headers; the
 * workflow interceptors continue it inside the sandbox and pass it on to each activity, whose
 * interceptor continues it around the activity (and so around its vendor calls). The workflow
 * interceptors are deterministic: span ids come from the workflow's seeded random, spans leave the
 * sandbox through a sink that is never called during replay, and queries and update validators are
 * traced only in histories recorded with the SDK flag that says so (older histories replay as before).
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Tracing } from '../tracing';

/**
 * The workflow-side interceptors: always in a pre-built bundle (`bundleWorkflows`: the tests' and
 * the replayer's), in a bundle the worker builds itself only when tracing is on.
 */
export const WORKFLOW_TRACING_INTERCEPTORS =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * What of the workflow's info a workflow span carries (the sink merges the info it is given into
 * every span): ids and names only, never the memo, search attributes or a previous run's result.
 */
const WORKFLOW_SPAN_INFO = ['workflowId', 'runId', 'workflowType', 'taskQueue', 'namespace', 'attempt'] as const;

/** Client interceptors of every Temporal client (the API's, the worker's schedule set-up, the tests'). */
export function clientTracingInterceptors(): { workflow: WorkflowClientInterceptor[] } {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * Activity interceptors and the workflow span sink of a worker or a replayer. `tracing` off: the
 * activity interceptors meet the no-op tracer, and a bundle with the workflow interceptors still
 * finds its sink, which drops the spans.
 */
export function workerTracingOptions(
  tracing: Tracing | undefined,
): Required<Pick<WorkerOptions, 'interceptors'>> & { sinks: InjectedSinks<OpenTelemetrySinks> } {
  const exporter = makeWorkflowExporter(
    tracing?.spanProcessor ?? new NoopSpanProcessor(),
    tracing?.resource ?? Resource.empty(),
  );
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: {
      exporter: {
        export: {
          ...exporter.export,
          fn: (info, spans) => exporter.export.fn(pick(info, WORKFLOW_SPAN_INFO) as typeof info, spans),
        },
      },
    },
  };
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}
