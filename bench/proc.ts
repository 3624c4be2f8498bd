/** Readers of /proc (Linux): a process's CPU ticks and RSS, the CPU model, the open-file limit. */
import { readFileSync } from 'node:fs';

/** utime + stime of every thread of the process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident set size in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The hard limit on open files of this process: the suite raises each child's soft limit to it. */
export function openFileLimit(): number {
  try {
    const match = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match?.[1] === 'unlimited' ? 1_048_576 : Number(match?.[1] ?? 1024);
  } catch {
    return 1024;
  }
}

/** Ticks of one CPU from /proc/stat: busy includes irq and softirq (loopback TCP work is softirq, charged to no process). */
export interface CoreTicks {
  readonly busy: number;
  readonly softirq: number;
  /** user + nice + system: time charged to processes. */
  readonly processes: number;
  readonly total: number;
}

/** Per CPU (cpu0, cpu1, …), in clock ticks since boot. */
export function coreTicks(): CoreTicks[] {
  const cores: CoreTicks[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = match[2]!
      .split(/\s+/)
      .map(Number);
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    cores[Number(match[1])] = { busy: total - idle - iowait, softirq, processes: user + nice + system, total };
  }
  return cores;
}
