/**
 * The image's HEALTHCHECK (`node dist/scripts/healthcheck.js <role>`): asks the role's own readiness
 * probe from inside the container and exits 0 when it answers 200. It reads the listener settings the
 * process itself reads (README, Configuration) without validating the rest of the configuration:
 * a probe must answer in a second, not re-check every secret.
 */
const PROBE_TIMEOUT_MS = 3_000;

/** A wildcard listen address is reached over loopback from inside the container. */
function reachableHost(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export function probeUrl(role: string, env: NodeJS.ProcessEnv): string {
  switch (role) {
    case 'api':
      return `http://${reachableHost(env.API_HOST)}:${env.API_PORT || '3000'}/readyz`;
    case 'worker':
      if (env.WORKER_HEALTH_PORT === '0') throw new Error('the worker probe is off (WORKER_HEALTH_PORT=0)');
      return `http://${reachableHost(env.WORKER_HEALTH_HOST)}:${env.WORKER_HEALTH_PORT || '3001'}/readyz`;
    default:
      throw new Error(`unknown role "${role}" (api or worker)`);
  }
}

async function main(): Promise<void> {
  const url = probeUrl(process.argv[2] ?? '', process.env);
  const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
