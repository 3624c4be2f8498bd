import { FANOUT_BUCKETS_SECONDS } from '../../limits.js';

/**
 * A histogram kept as plain numbers: one bucket scan and two additions per observation
 * (prom-client's own observe() measured 0.6–1.3 µs here). Exported at scrape time.
 */
export class TimeHistogram {
  readonly bounds: readonly number[];
  /** counts[i]: observations ≤ bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[] = FANOUT_BUCKETS_SECONDS) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** Fan-out time of the hub's dispatch actions, by kind. */
export interface FanoutTimes {
  readonly broadcast: TimeHistogram;
  readonly publish: TimeHistogram;
}

export const createFanoutTimes = (): FanoutTimes => ({ broadcast: new TimeHistogram(), publish: new TimeHistogram() });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replaces the machine's own typed actions, whose signatures it keeps
type Action = (args: any, params: any) => void;

/**
 * Wraps the hub machine's own dispatch actions (broadcast, publish) so one dispatch — frame
 * once, hand it to every recipient's writer — is timed with performance.now(). Passed to
 * hubMachine.provide(); the machine itself stays free of metrics.
 */
export function timedDispatch(
  actions: Record<string, unknown>,
  times: FanoutTimes,
): { broadcast: Action; publish: Action } {
  const time =
    (original: (args: unknown, params: unknown) => void, histogram: TimeHistogram) =>
    (args: unknown, params: unknown): void => {
      const start = performance.now();
      try {
        original(args, params);
      } finally {
        histogram.observe((performance.now() - start) / 1000);
      }
    };
  const pick = (name: string): ((args: unknown, params: unknown) => void) => {
    const action = actions[name];
    if (typeof action !== 'function') throw new Error(`the hub machine has no function action "${name}" to time`);
    return action as (args: unknown, params: unknown) => void;
  };
  return {
    broadcast: time(pick('broadcast'), times.broadcast) as Action,
    publish: time(pick('publish'), times.publish) as Action,
  };
}
