/** The benchmarks `npm run bench -- <scenario>` knows (bench/main.ts runs them). */

/** Scenario name → the script (relative to this file) and what it measures, for `list`. */
export const SCENARIOS = {
  suite: ['run.js', 'the comparative suite: fan-out, latency, idle memory, connects, churn, hub ops, cross-node'],
  'actor-floor': ['actor-floor.js', 'what one XState actor costs on this Node (CPU, allocation, retained heap)'],
  flood: ['flood.js', 'one peer flooding commands while bystanders measure their round trip'],
  'ping-flood': [
    'ping-flood.js',
    'one peer flooding ping control frames and never reading: server memory stays bounded',
  ],
  history: ['history.js', 'publish with history on vs off, recovery time, memory of kept messages'],
  inspector: ['inspector.js', 'hub events/s at 5,000 clients with and without the built-in viewer (/inspect) open'],
  observability: ['observability.js', 'the cost of metrics and logging on the hot path'],
  ordering: ['ordering.js', '1,000,000 messages: none lost, duplicated or reordered'],
  'per-client': ['per-client.js', 'heap and CPU per connection, idle and with topics'],
  'slow-reader': ['slow-reader.js', 'one slow reader against 1,000 healthy clients: bounded queue, healthy p99'],
  shutdown: ['shutdown.js', 'SIGTERM with 10,000 clients: time to exit, every client gets 1001'],
  soak: ['soak.js', '100,000 connect/disconnect cycles: every count back to baseline, no leak'],
  storm: ['reconnect-storm.js', '5,000 SDK clients of a node that restarts: time until all are resubscribed'],
} as const satisfies Record<string, readonly [string, string]>;

export type Scenario = keyof typeof SCENARIOS;

export const isScenario = (name: string | undefined): name is Scenario =>
  name !== undefined && Object.hasOwn(SCENARIOS, name);
