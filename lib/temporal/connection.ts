/**
 * Temporal connections from the `@temporalio/envconfig` conventions (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE),
 * so the same variables work for the dev server, a self-hosted cluster and Temporal Cloud.
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { clientTracingInterceptors } from './tracing';

function connectOptions(config: Config): { options: ConnectionOptions; namespace: string } {
  const loaded = loadClientConnectConfig();
  const options = {
    ...(loaded.connectionOptions as ConnectionOptions),
    ...(config.temporal.address ? { address: config.temporal.address } : {}),
  };
  return { options, namespace: config.temporal.namespace ?? loaded.namespace ?? 'default' };
}

/** `dataConverter`: `createDataConverter(codecKeysFromConfig(config))`, the one the workers use. */
export async function connectClient(config: Config, dataConverter?: DataConverter): Promise<Client> {
  const { options, namespace } = connectOptions(config);
  const connection = await Connection.connect(options);
  return new Client({
    connection,
    namespace,
    interceptors: clientTracingInterceptors(),
    ...(dataConverter ? { dataConverter } : {}),
  });
}

export async function connectWorkerConnection(config: Config): Promise<NativeConnection> {
  const { options } = connectOptions(config);
  return NativeConnection.connect(options as Parameters<typeof NativeConnection.connect>[0]);
}
