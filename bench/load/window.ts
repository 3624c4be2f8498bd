/**
 * A measurement window: wall time, this process's CPU, the server's CPU and every core's busy
 * time between two snapshots. Loopback TCP work runs as softirq, which no process is charged
 * for, so a core can be saturated while its process shows less than 100%: the per-core
 * figures say which side really ran out of CPU.
 */
import { coreTicks, cpuTicks, type CoreTicks } from '../proc.js';
import type { CpuReport } from '../types.js';

export interface Snapshot {
  readonly t: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly serverTicks: number;
  /** Per server, when several were measured (cross-node). */
  readonly perServer: readonly number[];
  readonly cores: readonly CoreTicks[];
}

/** `servers`: the pid of the server under test, or of every node of a cross-node run. */
export const snapshot = (servers: number | readonly number[]): Snapshot => {
  const perServer = (typeof servers === 'number' ? [servers] : servers).map(cpuTicks);
  return {
    t: performance.now(),
    cpu: process.cpuUsage(),
    serverTicks: perServer.reduce((a, b) => a + b, 0),
    perServer,
    cores: coreTicks(),
  };
};

export interface Window {
  readonly ms: number;
  /** Fractions of one core. */
  readonly serverCpu: number;
  readonly generatorCpu: number;
  readonly serverCpuSeconds: number;
  /** Fractions of one core per server (one entry unless several were measured). */
  readonly perServer: readonly number[];
  /** Per core: busy fraction (softirq included) and the softirq part. */
  readonly cores: readonly { readonly busy: number; readonly softirq: number }[];
  /** CPU charged to processes other than the server and the generator (the machine is not quiet if this is high). */
  readonly othersCpu: number;
}

export function windowBetween(a: Snapshot, b: Snapshot, clkTck: number): Window {
  const ms = b.t - a.t;
  const seconds = ms / 1000;
  const serverCpuSeconds = (b.serverTicks - a.serverTicks) / clkTck;
  const generatorSeconds = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6;
  let processTicks = 0;
  const cores = b.cores.map((core, i) => {
    const before = a.cores[i] ?? core;
    const total = core.total - before.total || 1;
    processTicks += core.processes - before.processes;
    return { busy: (core.busy - before.busy) / total, softirq: (core.softirq - before.softirq) / total };
  });
  const othersCpu = Math.max(
    0,
    processTicks / clkTck / seconds - serverCpuSeconds / seconds - generatorSeconds / seconds,
  );
  const perServer = b.perServer.map((ticks, i) => (ticks - (a.perServer[i] ?? ticks)) / clkTck / seconds);
  return {
    ms,
    serverCpu: serverCpuSeconds / seconds,
    generatorCpu: generatorSeconds / seconds,
    serverCpuSeconds,
    perServer,
    cores,
    othersCpu,
  };
}

export const cpuReport = (w: Window): CpuReport => ({
  server: w.serverCpu,
  ...(w.perServer.length > 1 ? { servers: w.perServer } : {}),
  generator: w.generatorCpu,
  cores: w.cores,
  others: w.othersCpu,
});
