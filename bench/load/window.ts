/** A measurement window: wall time, this process's CPU and the server's CPU between two snapshots. */
import { cpuTicks } from '../proc.js';

export interface Snapshot {
  readonly t: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly serverTicks: number;
}

export const snapshot = (serverPid: number): Snapshot => ({ t: performance.now(), cpu: process.cpuUsage(), serverTicks: cpuTicks(serverPid) });

export interface Window {
  readonly ms: number;
  /** Fractions of one core. */
  readonly serverCpu: number;
  readonly generatorCpu: number;
  readonly serverCpuSeconds: number;
}

export function windowBetween(a: Snapshot, b: Snapshot, clkTck: number): Window {
  const ms = b.t - a.t;
  const serverCpuSeconds = (b.serverTicks - a.serverTicks) / clkTck;
  const generatorSeconds = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6;
  return { ms, serverCpu: serverCpuSeconds / (ms / 1000), generatorCpu: generatorSeconds / (ms / 1000), serverCpuSeconds };
}
