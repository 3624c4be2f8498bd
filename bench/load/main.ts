/**
 * The load generator, a process of its own: node dist/bench/load/main.js '<job as JSON>'.
 * Prints one line "RESULT <json>" (a JobResult, or {"error": "..."}) and exits.
 */
import { runChurn } from './churn.js';
import { runFanout } from './fanout.js';
import { runIdle } from './idle.js';
import { runLatency } from './latency.js';
import type { Job, JobResult } from '../types.js';

const DEADLINE_MS = 120_000;

const finish = (body: unknown, code: number): never => {
  process.stdout.write(`RESULT ${JSON.stringify(body)}\n`, () => process.exit(code));
  return setTimeout(() => process.exit(code), 1000).unref() as never;
};

setTimeout(() => finish({ error: `generator still running after ${DEADLINE_MS} ms` }, 2), DEADLINE_MS);

async function main(): Promise<JobResult> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  switch (job.scenario) {
    case 'fanout':
      return runFanout(job);
    case 'latency':
      return runLatency(job);
    case 'idle':
      return runIdle(job);
    case 'churn':
      return runChurn(job);
  }
}

main().then(
  (result) => finish(result, 0),
  (error: unknown) => finish({ error: error instanceof Error ? error.message : String(error) }, 1),
);
