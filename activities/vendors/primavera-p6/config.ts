/**
 * The Primavera P6 row's deployment settings: no app of ours at Oracle (each customer creates a
 * service account in its own P6), only the hosts a submitted P6 URL may have, so a connect cannot
 * make the worker call any address; http only for the local emulator.
 */
import type { ConfigReader } from '../../../lib/config';
import { readHostAllowList, type HostAllowList } from '../shared/hostAllowList';

export type PrimaveraApp = HostAllowList;

export function readPrimaveraApp(read: ConfigReader): PrimaveraApp | undefined {
  return readHostAllowList(read, 'Oracle Primavera P6', 'PRIMAVERA_P6_HOSTS', 'PRIMAVERA_P6_ALLOW_HTTP');
}
