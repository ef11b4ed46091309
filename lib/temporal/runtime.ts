/**
 * The worker's Temporal Runtime (one per process, installed before any connection): the SDK's
 * logs (workflow `log`, activity `Context.current().log`, the worker's own) and Core's forwarded
 * logs go through our scrubbing pino logger at LOG_LEVEL, so personal data is scrubbed at source
 * (T25); Core's metrics, and the metrics workflows and activities emit through the SDK meter, are
 * served for Prometheus when an address is given.
 */
import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../logger';

const PINO_TO_SDK_LEVEL: Record<Config['logLevel'], LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  // The SDK has no level above ERROR: pino's own level drops what fatal/silent exclude.
  fatal: 'ERROR',
  silent: 'ERROR',
};

const SDK_TO_PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's logger interface over pino: the SDK's metadata (workflow and run ids, activity type…) become fields. */
export function sdkLoggerFor(logger: Logger, level: Config['logLevel']): DefaultLogger {
  return new DefaultLogger(PINO_TO_SDK_LEVEL[level], ({ level: sdkLevel, message, meta }) => {
    logger[SDK_TO_PINO_LEVEL[sdkLevel]](meta ?? {}, message);
  });
}

export interface WorkerRuntimeOptions {
  logger: Logger;
  logLevel: Config['logLevel'];
  /** host:port of Core's Prometheus endpoint; unset: no metrics are exported. */
  metricsAddress?: string;
}

export function installWorkerRuntime(options: WorkerRuntimeOptions): Runtime {
  const level = PINO_TO_SDK_LEVEL[options.logLevel];
  return Runtime.install({
    logger: sdkLoggerFor(options.logger, options.logLevel),
    // The worker installs its own handlers (`workers/shutdown.ts`): activities learn of the shutdown first.
    shutdownSignals: [],
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: level, other: 'ERROR' }) },
      ...(options.metricsAddress ? { metrics: { prometheus: { bindAddress: options.metricsAddress } } } : {}),
    },
  });
}
