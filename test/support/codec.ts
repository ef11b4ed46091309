/** Payload-encryption helpers for tests: walk a history's payloads, raw or decoded. */
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { historyToJson } from '../../dev/historyJson';

export interface FoundPayload {
  /** JSON path in the history, e.g. `events.4.activityTaskScheduledEventAttributes.input.payloads.0`. */
  path: string;
  payload: Payload;
}

const isWirePayload = (value: unknown): value is { metadata: Record<string, string>; data?: string } =>
  typeof value === 'object' &&
  value !== null &&
  'metadata' in value &&
  typeof (value as { metadata: unknown }).metadata === 'object' &&
  typeof ((value as { metadata: Record<string, unknown> }).metadata ?? {})[METADATA_ENCODING_KEY] === 'string';

/** Every payload of a history (`historyToJson` form: metadata values and data are base64). */
export function historyPayloads(historyJson: string): FoundPayload[] {
  const found: FoundPayload[] = [];
  const walk = (value: unknown, path: string) => {
    if (isWirePayload(value)) {
      found.push({
        path,
        payload: {
          metadata: Object.fromEntries(Object.entries(value.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
          data: Buffer.from(value.data ?? '', 'base64'),
        },
      });
      return;
    }
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}.${i}`));
    else if (typeof value === 'object' && value !== null)
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(JSON.parse(historyJson), '');
  return found;
}

export const encodingOf = (payload: Payload) =>
  Buffer.from(payload.metadata?.[METADATA_ENCODING_KEY] ?? new Uint8Array()).toString('utf8');

/** Search attributes are indexed by the server in clear (ids and vendor names only, by design). */
export const isSearchAttribute = (found: FoundPayload) =>
  /(^|\.)(searchAttributes|indexedFields)(\.|$)/.test(found.path);

/** Temporal Core writes a patch marker's data itself, in clear: the patch id only (checked where it is filtered out). */
export const isPatchMarker = (found: FoundPayload) =>
  /(^|\.)markerRecordedEventAttributes\.details\.patch-data(\.|$)/.test(found.path);

/**
 * The OpenTelemetry interceptors carry the trace context in a header the SDK writes without the codec:
 * W3C trace context only (checked where it is filtered out), no payload, token or person.
 */
export const isTraceContextHeader = (found: FoundPayload) => /(^|\.)header\.fields\._tracer-data$/.test(found.path);

/** History JSON of every run of a workflow id (continue-as-new chains included), via `client`. */
export async function fetchHistoryJson(client: Client, workflowId: string, runId?: string): Promise<string> {
  return historyToJson(await client.workflow.getHandle(workflowId, runId).fetchHistory());
}

/**
 * Everything a reader of the history could see as text: the JSON itself plus each payload's
 * data decoded from base64, and — if a codec is given — decrypted first.
 */
export async function historyTexts(historyJson: string, codec?: PayloadCodec): Promise<string[]> {
  const payloads = historyPayloads(historyJson).map((p) => p.payload);
  const visible = codec ? await codec.decode(payloads) : payloads;
  return [historyJson, ...visible.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))];
}
