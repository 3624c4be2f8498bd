/** Command-line options and what a full or a --quick run measures. */
import { parseArgs } from 'node:util';
import { PEERS, type PeerId } from './peers.js';
import { PUBLISH_VARIANTS, type PublishSettings } from './publish-servers.js';
import type { ChurnJob, Counters } from './types.js';

export type Scenario = 'fanout' | 'latency' | 'idle' | 'cross-node' | 'churn' | 'ops' | 'publish';
export const SCENARIOS: readonly Scenario[] = ['fanout', 'latency', 'idle', 'cross-node', 'churn', 'ops', 'publish'];

/** Cross-node setups: actorhub alone (the reference), or two actorhub nodes over a broker. */
export type ClusterSetup = 'single' | 'redis' | 'nats';
export const SETUPS: readonly ClusterSetup[] = ['single', 'redis', 'nats'];

export interface Options {
  readonly quick: boolean;
  readonly rounds: number;
  readonly only: readonly Scenario[];
  readonly peers: readonly PeerId[];
  readonly counters: Counters;
  /** Regenerate docs/performance.md and its charts (default: on for a full run, off for --quick). */
  readonly docs: boolean;
  /** Only re-render the reports from bench/results/latest.json. */
  readonly reportOnly: boolean;
  /** Brokers of the cross-node scenario. */
  readonly redis: string;
  readonly nats: string;
}

export interface Settings {
  readonly fanout: {
    readonly sizes: readonly number[];
    readonly payloads: readonly number[];
    readonly warmupMs: number;
    readonly measureMs: number;
    readonly window: number;
    readonly checkers: number;
  };
  /**
   * `messages` measured per run, whatever the rate: every checker sees each message at about the
   * same latency, so p99 is a statement about messages, and needs enough of them (600: p99 is
   * set by ~6 messages, not by the one or two of a short window at a low rate).
   */
  readonly latency: {
    readonly recipients: number;
    readonly rates: readonly number[];
    readonly payload: number;
    readonly warmupMs: number;
    readonly messages: number;
    readonly checkers: number;
  };
  readonly idle: { readonly sizes: readonly number[]; readonly concurrency: number; readonly settleMs: number };
  readonly crossNode: {
    readonly sizes: readonly number[];
    readonly payload: number;
    readonly window: number;
    readonly warmupMs: number;
    readonly measureMs: number;
    readonly checkers: number;
    readonly latency: {
      readonly recipients: number;
      readonly rate: number;
      readonly warmupMs: number;
      readonly measureMs: number;
      readonly checkers: number;
    };
  };
  /** JSON publish to a topic (bench/publish.ts): raw ws, socket.io rooms and actorhub's history setups. */
  readonly publish: PublishSettings;
  /** A churn job's own settings (bench/types.ts ChurnJob), without what the run adds. */
  readonly churn: Omit<ChurnJob, 'scenario' | 'target' | 'counters'>;
  readonly ops: {
    readonly sizes: readonly number[];
    readonly warmupClients: number;
    readonly batches: number;
    readonly batchSize: number;
    readonly broadcasts: number;
  };
  /** Longest wait for other processes to go quiet before a run, and all such waits of the suite together. */
  readonly quietWaitMs: number;
  readonly quietBudgetMs: number;
}

export const HELP = `npm run bench [-- options]
  --quick              1 round, fewer sizes and shorter runs of every scenario; writes bench/results/quick.json, not the docs
  --rounds R           rounds of A B C interleaving (default 3, --quick 1)
  --only LIST          scenarios, comma-separated: ${SCENARIOS.join(',')} (default all)
                       (without --quick, the results file and docs then hold those scenarios only)
                       publish: JSON publish to a topic vs raw ws and socket.io rooms, history off/on (memory, Redis, NATS, 2 nodes over Redis)
  --redis URL          Redis of the cross-node and publish scenarios (default $REDIS_URL or redis://127.0.0.1:6379)
  --nats URL           NATS of the cross-node and publish scenarios (default $NATS_URL or nats://127.0.0.1:4222)
  --peers LIST         raw-ws,socket.io,actorhub (default all)
  --counters raw|lib   counting subscribers: raw frame-header parsers (default) or the real client library
  --docs / --no-docs   regenerate docs/performance.md and docs/performance/*.svg (default: full run only)
  --report-only        re-render the table and the docs from bench/results/latest.json
  --help`;

export function parseOptions(argv: readonly string[]): Options | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string', default: SCENARIOS.join(',') },
      redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
      peers: { type: 'string', default: PEERS.map((p) => p.id).join(',') },
      counters: { type: 'string', default: 'raw' },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean' },
      'report-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const list = <T extends string>(text: string, allowed: readonly T[], what: string): T[] =>
    text.split(',').map((s) => {
      if (!(allowed as readonly string[]).includes(s))
        throw new Error(`unknown ${what} "${s}"; expected one of ${allowed.join(', ')}`);
      return s as T;
    });
  const rounds = values.rounds === undefined ? (values.quick ? 1 : 3) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
    throw new Error(`--rounds must be an integer from 1 to 20, got ${values.rounds}`);
  if (values.counters !== 'raw' && values.counters !== 'lib')
    throw new Error(`--counters must be raw or lib, got ${values.counters}`);
  return {
    quick: values.quick,
    rounds,
    only: list(values.only, SCENARIOS, 'scenario'),
    peers: list(
      values.peers,
      PEERS.map((p) => p.id),
      'peer',
    ),
    counters: values.counters,
    docs: values['no-docs'] ? false : (values.docs ?? !values.quick),
    reportOnly: values['report-only'],
    redis: values.redis,
    nats: values.nats,
  };
}

// Measured like the relay fan-out (same window, warm-up and measurement), at the sizes docs/performance.md reports for history.
const PUBLISH: PublishSettings = {
  sizes: [1000, 5000],
  payload: 64,
  window: 32,
  warmupMs: 500,
  measureMs: 2000,
  checkers: 4,
  variants: PUBLISH_VARIANTS,
};

const CROSS_NODE: Settings['crossNode'] = {
  sizes: [1000, 5000],
  payload: 64,
  window: 32,
  warmupMs: 500,
  measureMs: 2000,
  checkers: 4,
  latency: { recipients: 1000, rate: 100, warmupMs: 500, measureMs: 4000, checkers: 10 },
};

// The stream (subscribers × rate deliveries/s) stays well below the slowest peer's fan-out
// capacity (~100k/s for socket.io here): an overloaded server would make the churn figures
// measure the stream instead.
const CHURN: Settings['churn'] = {
  subscribers: 1000,
  checkers: 4,
  payload: 64,
  rate: 20,
  workers: 20,
  mix: ['close', 'fin', 'rst'],
  warmupMs: 3000,
  churnMs: 15_000,
  maxCyclesPerWorker: 100_000,
  rssEveryMs: 500,
  baselineTimeoutMs: 10_000,
};

export function settingsFor(options: Options): Settings {
  return options.quick
    ? {
        fanout: { sizes: [100, 1000], payloads: [64, 1024], warmupMs: 500, measureMs: 2000, window: 32, checkers: 4 },
        latency: { recipients: 1000, rates: [100], payload: 64, warmupMs: 1000, messages: 200, checkers: 10 },
        idle: { sizes: [1000], concurrency: 100, settleMs: 500 },
        crossNode: {
          ...CROSS_NODE,
          sizes: [1000],
          warmupMs: 500,
          measureMs: 1500,
          latency: { ...CROSS_NODE.latency, warmupMs: 500, measureMs: 1500 },
        },
        churn: {
          ...CHURN,
          subscribers: 100,
          rate: 50,
          checkers: 4,
          workers: 10,
          warmupMs: 1000,
          churnMs: 3000,
          rssEveryMs: 250,
        },
        ops: { sizes: [1000, 50_000], warmupClients: 5000, batches: 10, batchSize: 200, broadcasts: 5 },
        publish: { ...PUBLISH, sizes: [1000], measureMs: 1500 },
        quietWaitMs: 5_000,
        quietBudgetMs: 15_000,
      }
    : {
        fanout: {
          sizes: [100, 1000, 5000],
          payloads: [64, 1024],
          warmupMs: 500,
          measureMs: 2000,
          window: 32,
          checkers: 4,
        },
        latency: { recipients: 1000, rates: [100, 20], payload: 64, warmupMs: 500, messages: 600, checkers: 10 },
        idle: { sizes: [1000, 10_000], concurrency: 100, settleMs: 1000 },
        crossNode: CROSS_NODE,
        churn: CHURN,
        ops: { sizes: [1000, 10_000, 50_000], warmupClients: 5000, batches: 20, batchSize: 500, broadcasts: 9 },
        publish: PUBLISH,
        quietWaitMs: 10_000,
        quietBudgetMs: 60_000,
      };
}
