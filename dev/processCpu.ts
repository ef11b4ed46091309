/**
 * CPU time per process group, read from Linux's /proc (benchmarks only): on one machine that runs
 * the load generator, the API, the worker, Temporal and Postgres, latency under load is mostly
 * queueing for CPU, so where the CPU goes per request explains a latency figure better than the
 * figure itself. Elsewhere (no /proc) every reading is empty and callers print nothing.
 */
import fs from 'node:fs';

/** Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds used so far, by group name. */
export type CpuReading = Map<string, number>;

/** Names the group a process belongs to, or undefined to leave it out. */
export type GroupOf = (pid: number, command: string) => string | undefined;

function processCpuMs(pid: number): { command: string; cpuMs: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command sits in parentheses and may itself contain spaces or parentheses: split after the last ')'.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After the command: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { command, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

/** Every live process that `groupOf` names a group for, with its CPU so far; empty without /proc. */
function groupedProcesses(groupOf: GroupOf): Array<{ pid: number; group: string; cpuMs: number }> {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const pid = Number(entry);
    const usage = processCpuMs(pid);
    const group = usage && groupOf(pid, usage.command);
    return usage && group ? [{ pid, group, cpuMs: usage.cpuMs }] : [];
  });
}

export function readCpu(groupOf: GroupOf): CpuReading {
  const reading: CpuReading = new Map();
  for (const { group, cpuMs } of groupedProcesses(groupOf)) reading.set(group, (reading.get(group) ?? 0) + cpuMs);
  return reading;
}

/**
 * CPU used between two readings, by group. A process that started in between counts from zero; one
 * that exited in between is lost (its time is not in /proc any more), which the phases of a
 * benchmark avoid by keeping their processes alive.
 */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuReading {
  const used: CpuReading = new Map();
  for (const [group, ms] of after) used.set(group, Math.max(0, ms - (before.get(group) ?? 0)));
  return used;
}
