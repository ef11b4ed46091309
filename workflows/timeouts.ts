/**
 * Activity timeouts that the worker's configuration must agree with. Import-free, so the worker
 * process can read them without loading workflow code.
 */

/**
 * Start-to-close timeout of one data-out action. A worker's shutdown grace (WORKER_SHUTDOWN_GRACE)
 * must be at least this, so an action in flight at SIGTERM always reaches its recorded outcome.
 */
export const VENDOR_ACTION_TIMEOUT_MS = 60_000;
