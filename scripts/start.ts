/**
 * `npm start`: the whole service on one machine.
 *
 * Without TEMPORAL_ADDRESS it runs the Temporal dev server (SQLite file in the data folder, gRPC
 * 7233, UI 8233, search attributes registered); without DATABASE_URL it runs embedded Postgres
 * (data folder) and applies the migrations. Then it starts the worker and the API as child
 * processes with the resolved addresses (`dev/serviceProcesses.ts`, shared with `npm run
 * demo`); a child that exits is restarted with backoff while the others keep running. Ctrl-C (or
 * SIGTERM) stops the children first, then the servers, and leaves no process behind. A second
 * start finds the data of the first.
 */
import { loadConfigOrExit } from '../lib/config';
import { tracingTarget } from '../lib/tracing';
import { startService, type RunningService } from '../dev/serviceProcesses';
import { ToolMissingError } from '../dev/tools';

const log = (line: string) => process.stdout.write(`${line}\n`);

let stopping = false;
let service: RunningService | undefined;

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('Stopping…');
  await service?.stop();
  log('Stopped.');
  process.exit(exitCode);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  service = await startService({
    config,
    env: process.env,
    persistent: true,
    log,
    // A child that exits is restarted with backoff (and a crash loop reported) by the service itself.
    childOutput: 'inherit',
  });
  if (stopping) return;

  log('');
  log(`  API          http://localhost:${config.api.port}  (health: /readyz, reference: /docs)`);
  log(`  Temporal UI  ${config.temporal.uiUrl}`);
  log(`  Temporal     ${service.temporalAddress}`);
  log(
    `  Postgres     ${service.stack.database ? `embedded, 127.0.0.1:${config.database.embeddedPort}` : 'DATABASE_URL'}`,
  );
  log(`  Data         ${config.dataDir}`);
  const metricsAt = (address: string | undefined, variable: string) =>
    address ? `http://${address}/metrics` : `off (set ${variable})`;
  log(`  Metrics      worker ${metricsAt(config.metrics.workerAddress, 'METRICS_WORKER_ADDRESS')}`);
  log(`               api    ${metricsAt(config.metrics.apiAddress, 'METRICS_API_ADDRESS')}`);
  log('  Logs         JSON lines on the stdout of each process, at LOG_LEVEL');
  log(
    `  Traces       ${config.tracing.otlpEndpoint ? `OTLP/HTTP ${tracingTarget(config.tracing.otlpEndpoint)} (api and worker)` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`,
  );
  if (service.sandbox)
    log(
      `  Sandbox      ${Object.entries(service.sandbox.urls)
        .map(([name, url]) => `${name} ${url}`)
        .join(', ')}`,
    );
  log('  Ctrl-C stops everything.');
  log('');
}

main().catch(async (error) => {
  if (error instanceof ToolMissingError) log(error.message);
  else log(`start failed: ${error instanceof Error ? error.message : String(error)}`);
  stopping = false;
  await shutdown(1);
});
