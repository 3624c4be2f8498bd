/** Command-line options and what a full or a --quick run measures. */
import { parseArgs } from 'node:util';
import { PEERS, type PeerId } from './peers.js';
import type { Counters } from './types.js';

export type Scenario = 'fanout' | 'latency' | 'idle';

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
}

export interface Settings {
  readonly fanout: { readonly sizes: readonly number[]; readonly payloads: readonly number[]; readonly warmupMs: number; readonly measureMs: number; readonly window: number; readonly checkers: number };
  readonly latency: { readonly recipients: number; readonly rates: readonly number[]; readonly payload: number; readonly warmupMs: number; readonly measureMs: number; readonly checkers: number };
  readonly idle: { readonly sizes: readonly number[]; readonly concurrency: number; readonly settleMs: number };
  /** Longest wait for other processes to go quiet before a run, and all such waits of the suite together. */
  readonly quietWaitMs: number;
  readonly quietBudgetMs: number;
}

export const HELP = `npm run bench [-- options]
  --quick              1 round, fewer sizes (N = 100, 1000; idle 1k); writes bench/results/quick.json, not the docs
  --rounds R           rounds of A B C interleaving (default 3, --quick 1)
  --only LIST          scenarios, comma-separated: fanout,latency,idle (default all)
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
      only: { type: 'string', default: 'fanout,latency,idle' },
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
      if (!(allowed as readonly string[]).includes(s)) throw new Error(`unknown ${what} "${s}"; expected one of ${allowed.join(', ')}`);
      return s as T;
    });
  const rounds = values.rounds === undefined ? (values.quick ? 1 : 3) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`--rounds must be an integer from 1 to 20, got ${values.rounds}`);
  if (values.counters !== 'raw' && values.counters !== 'lib') throw new Error(`--counters must be raw or lib, got ${values.counters}`);
  return {
    quick: values.quick,
    rounds,
    only: list(values.only, ['fanout', 'latency', 'idle'] as const, 'scenario'),
    peers: list(values.peers, PEERS.map((p) => p.id), 'peer'),
    counters: values.counters,
    docs: values['no-docs'] ? false : (values.docs ?? !values.quick),
    reportOnly: values['report-only'],
  };
}

export function settingsFor(options: Options): Settings {
  return options.quick
    ? {
        fanout: { sizes: [100, 1000], payloads: [64, 1024], warmupMs: 500, measureMs: 2000, window: 32, checkers: 4 },
        latency: { recipients: 1000, rates: [100], payload: 64, warmupMs: 1000, measureMs: 2000, checkers: 10 },
        idle: { sizes: [1000], concurrency: 100, settleMs: 500 },
        quietWaitMs: 5_000,
        quietBudgetMs: 15_000,
      }
    : {
        fanout: { sizes: [100, 1000, 5000], payloads: [64, 1024], warmupMs: 500, measureMs: 2000, window: 32, checkers: 4 },
        latency: { recipients: 1000, rates: [100, 20], payload: 64, warmupMs: 500, measureMs: 4000, checkers: 10 },
        idle: { sizes: [1000, 10_000], concurrency: 100, settleMs: 1000 },
        quietWaitMs: 10_000,
        quietBudgetMs: 60_000,
      };
}
