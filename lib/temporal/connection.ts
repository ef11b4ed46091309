/**
 * Temporal connections from the resolved profile in `Config.temporal` (`@temporalio/envconfig`
 * conventions: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
 * TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE), so the same variables work for the dev server, a
 * self-hosted cluster and Temporal Cloud, and every Client and NativeConnection of the service
 * (API, worker, codec endpoint, scripts) uses one address, namespace and credential.
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { clientTracingInterceptors } from './tracing';

/** What both connection kinds take: address plus the profile's API key, TLS and gRPC metadata. */
export function temporalConnectionOptions(
  config: Pick<Config, 'temporal'>,
): ConnectionOptions & NativeConnectionOptions {
  const { address, connection } = config.temporal;
  return { ...(address ? { address } : {}), ...connection };
}

/** `dataConverter`: `createDataConverter(codecKeysFromConfig(config))`, the one the workers use. */
export async function connectClient(config: Config, dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    interceptors: clientTracingInterceptors(),
    ...(dataConverter ? { dataConverter } : {}),
  });
}

export async function connectWorkerConnection(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config));
}
