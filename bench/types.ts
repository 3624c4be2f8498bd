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
  /** Clients that receive every message (counters + checkers); the publisher is one more. */
  readonly recipients: number;
  readonly checkers: number;
  readonly payload: number;
  /** Messages in flight at most: the publisher sends k once (k - window + 1) × recipients deliveries arrived. */
  readonly window: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly counters: Counters;
}

export interface LatencyJob {
  readonly scenario: 'latency';
  readonly target: Target;
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

export type Job = FanoutJob | LatencyJob | IdleJob;

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
  /** utime + stime of the server process (/proc/PID/stat). */
  readonly server: number;
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
  /** Server process CPU time per delivery. */
  readonly serverNsPerDelivery: number;
  readonly latency: Percentiles;
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

export type JobResult = FanoutResult | LatencyResult | IdleResult;
