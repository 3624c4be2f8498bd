/**
 * A checker: a real client that verifies every message (content, order, no duplicates) and
 * records the latency from the send time in the payload into an hdr histogram (µs).
 */
import hdr from 'hdr-histogram-js';
import { parsePayload } from './payload.js';
import type { Percentiles } from '../types.js';

export type Histogram = ReturnType<typeof hdr.build>;

export const newHistogram = (): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

export class Checker {
  received = 0;
  next = 0;
  outOfOrder = 0;
  duplicates = 0;
  corrupt = 0;
  /** Sequence numbers in [recordFrom, recordTo) have their latency recorded. */
  recordFrom = Number.POSITIVE_INFINITY;
  recordTo = Number.POSITIVE_INFINITY;
  readonly histogram = newHistogram();

  constructor(private readonly size: number) {}

  /** Forgets what it saw (the probes of the publish scenario's join barrier). */
  reset(): void {
    this.received = 0;
    this.next = 0;
    this.outOfOrder = 0;
    this.duplicates = 0;
    this.corrupt = 0;
  }

  onText(text: string, now: number): void {
    this.received++;
    const p = parsePayload(text, this.size);
    if (!p) {
      this.corrupt++;
      return;
    }
    if (p.seq === this.next) this.next++;
    else if (p.seq < this.next)
      this.duplicates++; // seen before, or arrived late: either is wrong
    else {
      this.outOfOrder++; // a gap: earlier messages are missing here (the counts report the loss)
      this.next = p.seq + 1;
    }
    if (p.seq >= this.recordFrom && p.seq < this.recordTo)
      this.histogram.recordValue(Math.max(1, Math.round((now - p.t) * 1000)));
  }
}

export function percentiles(histograms: readonly Histogram[]): Percentiles {
  const all = newHistogram();
  for (const h of histograms) all.add(h);
  const ms = (us: number): number => us / 1000;
  return {
    p50: ms(all.getValueAtPercentile(50)),
    p90: ms(all.getValueAtPercentile(90)),
    p99: ms(all.getValueAtPercentile(99)),
    p999: ms(all.getValueAtPercentile(99.9)),
    max: ms(all.maxValue),
    count: all.totalCount,
  };
}

/** Percentiles of the checkers on each node of a cross-node run (node 1, then node 2). */
export const byNode = (audience: {
  readonly checkers: readonly Checker[];
  readonly checkerNode: readonly number[];
}): Percentiles[] =>
  [0, 1].map((node) =>
    percentiles(audience.checkers.filter((_, i) => audience.checkerNode[i] === node).map((c) => c.histogram)),
  );
