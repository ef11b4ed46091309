/**
 * The Oracle ERP Cloud row's deployment settings: no app of ours at Oracle (each customer creates a
 * service account in its own tenant), only the hosts a submitted pod URL may have, so a connect
 * cannot make the worker call any address; http only for the local emulator.
 */
import type { ConfigReader } from '../../../lib/config';
import { readHostAllowList, type HostAllowList } from '../shared/hostAllowList';

export type OracleErpApp = HostAllowList;

export function readOracleErpApp(read: ConfigReader): OracleErpApp | undefined {
  return readHostAllowList(read, 'Oracle ERP Cloud', 'ORACLE_ERP_HOSTS', 'ORACLE_ERP_ALLOW_HTTP');
}
