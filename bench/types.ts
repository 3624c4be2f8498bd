/** What the orchestrator (bench/run.ts) hands the load generator (bench/load/main.ts), and what it gets back. */

/** How clients speak to a peer: plain WebSocket text frames, or socket.io's engine.io framing. */
export type Wire = 'ws' | 'socketio';
/** Subscribers that only count: raw sockets that parse frame headers, or the real client library. */
export type Counters = 'raw' | 'lib';

export interface Target {
  readonly port: number;
  /** The path that upgrades: /ws, or /socket.io/ for socket.io. */
  readonly path: string;
  readonly wire: Wire;
  /** The server's pid: the generator reads its CPU and RSS from /proc over the exact window it measures. */
  readonly serverPid: number;
  readonly clkTck: number;
}

export interface FanoutJob {
  readonly scenario: 'fanout';
  readonly target: Target;
  /** Cross-node runs: a second node; recipients are split half/half, the publisher stays on `target`. */
  readonly second?: Target;
  /** Clients that receive every message (counters + checkers); the publisher is one more. */
  readonly recipients: number;
  readonly checkers: number;
  readonly payload: number;
  /** Messages in flight at most: the publisher sends k once (k - window + 1) × recipients deliveries arrived. */
  readonly window: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly counters: Counters;
  /** Absent: the relay (every message to every other client). Present: JSON publish to a topic. */
  readonly topic?: TopicMode;
}

/**
 * The publish scenario: recipients join `name` (actorhub `subscribe`, socket.io rooms `join`)
 * and the publisher publishes to it (a JSON `publish` frame on a WebSocket peer, a socket.io
 * `publish` event on socket.io rooms). Raw ws has no topics: it forwards the publish frame as is.
 */
export interface TopicMode {
  readonly name: string;
  /** Whether recipients send a join before the first message (raw ws: no). */
  readonly join: boolean;
  /** Whether the server greets every connection with one text frame first (actorhub's `welcome`): not a delivery. */
  readonly welcome: boolean;
}

export interface LatencyJob {
  readonly scenario: 'latency';
  readonly target: Target;
  /** Cross-node runs: a second node (see FanoutJob.second). */
  readonly second?: Target;
  readonly recipients: number;
  readonly checkers: number;
  readonly payload: number;
  /** Messages per second, sent on a fixed schedule (open loop). */
  readonly rate: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly counters: Counters;
}

export interface IdleJob {
  readonly scenario: 'idle';
  readonly target: Target;
  readonly connections: number;
  /** Handshakes in flight at most. */
  readonly concurrency: number;
  readonly settleMs: number;
}

/** How a churning client leaves: a close frame (1000), TCP FIN without one, or TCP RST. */
export type Departure = 'close' | 'fin' | 'rst';

export interface ChurnJob {
  readonly scenario: 'churn';
  readonly target: Target;
  /** The stable audience: subscribers (counters + checkers) and one publisher at `rate`. */
  readonly subscribers: number;
  readonly checkers: number;
  readonly payload: number;
  readonly rate: number;
  /** Connect/disconnect loops running at once; departures go round-robin through `mix`. */
  readonly workers: number;
  readonly mix: readonly Departure[];
  /** Churn before RSS sampling and cycle counting start. */
  readonly warmupMs: number;
  readonly churnMs: number;
  /** Per-worker bound on cycles (the loops stop at churnMs or here, whichever comes first). */
  readonly maxCyclesPerWorker: number;
  readonly rssEveryMs: number;
  /** Longest wait for /stats to return to the baseline once the churn stopped. */
  readonly baselineTimeoutMs: number;
  readonly counters: Counters;
}

export type Job = FanoutJob | LatencyJob | IdleJob | ChurnJob;

/** Latency percentiles in milliseconds, from the checkers' hdr histograms (µs resolution). */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly count: number;
}

/** Every message must reach every recipient once, in order, unchanged, and never its sender. */
export interface Correctness {
  /** Deliveries expected: messages sent × recipients. */
  readonly expected: number;
  readonly delivered: number;
  /** Sum over recipients of messages missing / received more than once. */
  readonly lost: number;
  readonly duplicated: number;
  /** Messages the publisher received (it must receive none). */
  readonly echoed: number;
  /** Checkers: messages out of order, or whose content was not what was sent. */
  readonly outOfOrder: number;
  readonly corrupt: number;
  /** Recipients whose connection closed during the run, with the close codes seen. */
  readonly closed: number;
  readonly closeCodes: readonly number[];
}

/** CPU over the measured window, as fractions of one core. */
export interface CpuReport {
  /** utime + stime of the server process (/proc/PID/stat); of both nodes together in cross-node runs. */
  readonly server: number;
  /** Cross-node runs: each node's share. */
  readonly servers?: readonly number[];
  /** user + system of the generator process. */
  readonly generator: number;
  /** Every core's busy fraction, softirq included (the server is pinned to core 0, the generator to core 1). */
  readonly cores: readonly { readonly busy: number; readonly softirq: number }[];
  /** CPU of every other process: a busy machine makes the run noisy. */
  readonly others: number;
}

export interface FanoutResult {
  readonly scenario: 'fanout';
  readonly connectMs: number;
  readonly windowMs: number;
  readonly sent: number;
  readonly deliveries: number;
  readonly deliveriesPerSec: number;
  readonly messagesPerSec: number;
  readonly cpu: CpuReport;
  /** Server process CPU time per delivery (cross-node: both servers' CPU together). */
  readonly serverNsPerDelivery: number;
  readonly latency: Percentiles;
  /** Cross-node runs: the checkers on node 1, then those on node 2. */
  readonly latencyByNode?: readonly Percentiles[];
  readonly check: Correctness;
}

export interface LatencyResult {
  readonly scenario: 'latency';
  readonly connectMs: number;
  readonly sent: number;
  readonly achievedRate: number;
  readonly cpu: CpuReport;
  /** Server process CPU time per delivery made in the measured window. */
  readonly serverNsPerDelivery: number;
  readonly latency: Percentiles;
  readonly latencyByNode?: readonly Percentiles[];
  readonly check: Correctness;
}

export interface IdleResult {
  readonly scenario: 'idle';
  readonly connections: number;
  readonly failed: number;
  readonly connectMs: number;
  readonly connectsPerSec: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly rssPerConnBytes: number;
  /** Server CPU spent per 1000 connects, ms. */
  readonly serverCpuMsPer1k: number;
  readonly cpu: CpuReport;
}

export interface RssSample {
  /** ms since sampling started. */
  readonly t: number;
  readonly rss: number;
}

export interface ChurnResult {
  readonly scenario: 'churn';
  /** Clients /stats reported before the churn: the stable subscribers and the publisher. */
  readonly baseline: number;
  /** Cycles (connect, handshake, leave) completed in the measured window, and per departure kind. */
  readonly cycles: number;
  readonly cyclesByKind: Readonly<Record<Departure, number>>;
  readonly cyclesPerSec: number;
  /** Connects or departures that failed or timed out (all windows). */
  readonly failedCycles: number;
  readonly totalCycles: number;
  /** /stats after the churn stopped: back at the baseline, and how long that took. */
  readonly finalClients: number;
  readonly returnedToBaseline: boolean;
  readonly msToBaseline: number;
  /** Server RSS sampled over the measured window (after the warm-up). */
  readonly rss: readonly RssSample[];
  readonly rssFirst: number;
  readonly rssLast: number;
  readonly rssMax: number;
  /** Least-squares slope over the window, bytes per second. */
  readonly rssSlopeBytesPerSec: number;
  /** (max − min) / first. */
  readonly rssSpread: number;
  readonly sent: number;
  readonly cpu: CpuReport;
  /** The stable subscribers' checks: every message of the stream, once, in order. */
  readonly check: Correctness;
  readonly latency: Percentiles;
}

/** In-process hub operations (bench/ops): no sockets, fake writers. */
export interface OpsResult {
  readonly scenario: 'ops';
  readonly clients: number;
  /** µs per operation: median, min, max over the batches, and the mean over all of them (GC included). */
  readonly registerUs: { readonly median: number; readonly min: number; readonly max: number; readonly mean?: number };
  readonly unregisterUs: {
    readonly median: number;
    readonly min: number;
    readonly max: number;
    readonly mean?: number;
  };
  /** ns per recipient of one hub.broadcast, over the repetitions. */
  readonly broadcastNs: { readonly median: number; readonly min: number; readonly max: number };
  /** hub.shutdown until the hub actor is done (every client closed and removed). */
  readonly shutdownMs: number;
  /**
   * CPU time of this process during the shutdown (user + system): what the shutdown costs when
   * the machine is shared and the wall time stretches with other processes' load.
   */
  readonly shutdownCpuMs?: number;
  /** Registering the N clients in the first place, µs per client. */
  readonly fillUsPerClient: number;
  readonly heapUsedBytes: number;
  readonly batches: number;
  readonly batchSize: number;
  /** CPU time / wall time of the process over the run: well below 1, it waited for its core (a busy machine). */
  readonly cpuShare: number;
}

export type JobResult = FanoutResult | LatencyResult | IdleResult | ChurnResult | OpsResult;
