/**
 * OpenTelemetry tracing (T25): one trace per API request, from the request through the Temporal
 * client call, the workflow and its activities to each vendor call, exported over OTLP/HTTP.
 *
 * Off unless a collector is configured: no provider is registered, so every tracer is the API's
 * no-op one (no span objects, no exporter). Span attributes name routes, vendors, actions and
 * outcomes, and workspace/integration ids (tenant ids, already in every workflow id the SDK's
 * spans carry, and what ops search by); never a person, a token, a URL with its query, or content.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** The instrumentation scope of our own spans (API requests, vendor calls). */
export const TRACER_NAME = 'trackproject-integrations';

export const tracer = (): Tracer => trace.getTracer(TRACER_NAME);

/** Our span attribute names, besides the OpenTelemetry semantic conventions. */
export const SpanAttr = {
  workspaceId: 'trackproject.workspace_id',
  integrationId: 'trackproject.integration_id',
  vendor: 'trackproject.vendor',
  action: 'trackproject.vendor.action',
  scope: 'trackproject.vendor.scope',
  outcome: 'trackproject.outcome',
  failureType: 'trackproject.failure_type',
} as const;

export interface Tracing {
  /** Where the spans of this process end (the worker also hands it the workflow spans, through a sink). */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` of the spans: `trackproject-integrations-api` / `-worker`. */
  serviceName: string;
  /** OTLP/HTTP base URL; spans are posted to `<url>/v1/traces`. */
  otlpEndpoint?: string;
  /** Instead of the OTLP exporter (tests: an in-memory exporter). */
  spanProcessor?: SpanProcessor;
}

/** Registers the process's tracer provider, or nothing (undefined) when no exporter is configured. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const spanProcessor =
    options.spanProcessor ??
    (options.otlpEndpoint
      ? new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(options.otlpEndpoint) }))
      : undefined);
  if (!spanProcessor) return undefined;
  const resource = new Resource({ [ATTR_SERVICE_NAME]: options.serviceName });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator the Temporal interceptors use.
  provider.register();
  return { spanProcessor, resource, shutdown: () => provider.shutdown() };
}

/** The OTLP/HTTP traces path under the collector's base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` means it. */
export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** Where this process's spans go, for its start-up line; never the URL's credentials or query. */
export function tracingTarget(otlpEndpoint: string | undefined): string {
  if (!otlpEndpoint) return 'off';
  const { origin, pathname } = new URL(otlpTracesUrl(otlpEndpoint));
  return `${origin}${pathname}`;
}
