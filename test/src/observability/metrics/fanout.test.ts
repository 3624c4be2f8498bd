import { describe, expect, it } from 'vitest';
import { TimeHistogram } from '../../../../src/observability/metrics/fanout.js';

describe('TimeHistogram', () => {
  it('puts each observation in the first bucket whose bound it does not exceed; beyond the last, +Inf', () => {
    const h = new TimeHistogram([0.001, 0.01]);
    for (const s of [0.0005, 0.001, 0.002, 0.01, 0.5]) h.observe(s);
    expect(h.counts).toEqual([2, 2, 1]);
    expect(h.count).toBe(5);
    expect(h.sum).toBeCloseTo(0.5135, 10);
  });
});
