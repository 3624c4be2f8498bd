import { describe, expect, it } from 'vitest';
import { summarise, type RunRecord } from '../../bench/summary.js';
import type { CpuReport, FanoutResult, OpsResult } from '../../bench/types.js';

const cpu: CpuReport = {
  server: 0.5,
  generator: 0.5,
  cores: [
    { busy: 0.5, softirq: 0 },
    { busy: 0.5, softirq: 0 },
  ],
  others: 0,
};
const check = {
  expected: 0,
  delivered: 0,
  lost: 0,
  duplicated: 0,
  echoed: 0,
  outOfOrder: 0,
  corrupt: 0,
  closed: 0,
  closeCodes: [],
};
const latency = { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, count: 1 };
const fanout = (deliveriesPerSec: number): FanoutResult => ({
  scenario: 'fanout',
  connectMs: 0,
  windowMs: 1000,
  sent: 0,
  deliveries: 0,
  deliveriesPerSec,
  messagesPerSec: 0,
  cpu,
  serverNsPerDelivery: 0,
  latency,
  check,
});
const ops = (clients: number, registerUs: number, shutdownMs: number): OpsResult => {
  const s = (median: number) => ({ median, min: median, max: median });
  return {
    scenario: 'ops',
    clients,
    registerUs: s(registerUs),
    unregisterUs: s(registerUs),
    broadcastNs: s(100),
    shutdownMs,
    fillUsPerClient: 1,
    heapUsedBytes: 1,
    batches: 1,
    batchSize: 1,
    cpuShare: 1,
  };
};
const run = (r: Partial<RunRecord> & Pick<RunRecord, 'scenario' | 'round' | 'n'>): RunRecord => ({
  peer: 'actorhub',
  quietWaitMs: 0,
  ...r,
});

describe('bench summary of the new scenarios', () => {
  it('takes cross-node ratios against the single node of the same round', () => {
    const runs = [
      run({ scenario: 'cross-node', kind: 'fanout', setup: 'single', round: 1, n: 1000, result: fanout(100) }),
      run({ scenario: 'cross-node', kind: 'fanout', setup: 'redis', round: 1, n: 1000, result: fanout(80) }),
      run({ scenario: 'cross-node', kind: 'fanout', setup: 'single', round: 2, n: 1000, result: fanout(200) }),
      run({ scenario: 'cross-node', kind: 'fanout', setup: 'redis', round: 2, n: 1000, result: fanout(100) }),
    ];
    const redis = summarise(runs).crossFanout?.find((r) => r.setup === 'redis');
    expect(redis?.roundRatio).toMatchObject({ min: 0.5, max: 0.8, count: 2 });
    expect(redis?.ratio).toBeCloseTo(90 / 150);
    // Cross-node runs stay out of the single-server fan-out table.
    expect(summarise(runs).fanout).toEqual([]);
  });

  it('compares hub operations at 50k with 1k and checks the shutdown target', () => {
    const summary = summarise([
      run({ scenario: 'ops', round: 1, n: 1000, result: ops(1000, 20, 10) }),
      run({ scenario: 'ops', round: 1, n: 50_000, result: ops(50_000, 50, 1500) }),
    ]);
    expect(summary.ops?.map((r) => r.registerRatio)).toEqual([1, 2.5]);
    const targets = Object.fromEntries(summary.targets.map((t) => [t.what, t.met]));
    expect(targets['REGISTER µs/op, 50k vs 1k clients (hub machine)']).toBe(false);
    expect(targets['shutdown with 50k clients (hub machine)']).toBe(false);
  });

  it('takes publish ratios against raw ws and history off of the same round, and checks the publish targets', () => {
    const pub = (variant: NonNullable<RunRecord['variant']>, round: number, rate: number): RunRecord =>
      run({ scenario: 'publish', variant, round, n: 1000, result: fanout(rate) });
    const summary = summarise([
      pub('raw-ws', 1, 100),
      pub('off', 1, 600),
      pub('memory', 1, 420),
      pub('raw-ws', 2, 200),
      pub('off', 2, 800),
      pub('memory', 2, 720),
    ]);
    const row = (variant: string) => summary.publish?.find((r) => r.variant === variant);
    expect(row('off')?.roundVsRaw).toMatchObject({ min: 4, max: 6, count: 2 });
    expect(row('off')?.vsRaw).toBeCloseTo(700 / 150);
    expect(row('memory')?.roundVsOff).toMatchObject({ min: 0.7, max: 0.9, count: 2 });
    const targets = Object.fromEntries(summary.targets.map((t) => [t.what, t.met]));
    expect(targets['JSON publish deliveries/s, N = 1000, 64 B']).toBe(false);
    expect(targets['JSON publish, history on vs off, N = 1000, one node']).toBe(true);
    // No publish run at 5,000: no verdict claimed for it.
    expect(Object.keys(targets).some((w) => w.includes('N = 5000') && w.includes('publish'))).toBe(false);
    // Publish runs stay out of the relay fan-out table.
    expect(summary.fanout).toEqual([]);
  });
});
