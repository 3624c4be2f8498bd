import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import { startHub, type Harness } from '../support/ws-client.js';
import type { Case } from './arbitraries.js';
import { EXTENDED, runUntil, SEED } from './budget.js';
import { Bystander, CountingLogger, runSession, type FuzzEnv } from './driver.js';

/**
 * One fuzz file's fixture: LANES hubs with their default limits, each with a bystander
 * connected throughout, process-level listeners for uncaught errors, and a summary printed
 * at the end (cases per category, answers checked). Each run drives LANES connections at
 * once, one per hub (the model assumes a client alone with its bystander): the wait is
 * round trips, not CPU. Files run in parallel processes under `npm run test:fuzz`.
 */
const LANES = 6;

export interface HostileSuite {
  /** Generous: the default subset takes seconds, but npm test runs files side by side on a loaded machine. */
  readonly timeout: number;
  /** Runs sessions of generated cases until `target` cases ran (extended) or `defaultRuns` runs (default). */
  run(session: fc.Arbitrary<Case[]>, target: number, defaultRuns: number, seedOffset: number): Promise<void>;
}

export function hostileSuite(name: string): HostileSuite {
  const harnesses: Harness[] = [];
  const envs: FuzzEnv[] = [];
  const counts = new Map<string, number>();
  const answers = new Map<string, number>();
  const processErrors: unknown[] = [];
  let connections = 0;
  const started = Date.now();
  const cpu = process.cpuUsage();
  const onProcessError = (err: unknown): void => void processErrors.push(err);

  beforeAll(async () => {
    process.on('unhandledRejection', onProcessError);
    process.on('uncaughtException', onProcessError);
    for (let i = 0; i < LANES; i++) {
      const logger = new CountingLogger();
      // The presence-query limit (on by default) is tested in presence-limits.test.ts; the model here has none.
      const harness = await startHub({
        protocol: 'json',
        logger,
        rateLimit: { presenceQueriesPerSec: Number.POSITIVE_INFINITY },
      });
      harnesses.push(harness);
      envs.push({
        harness,
        bystander: await Bystander.connect(harness.url),
        logger,
        counts,
        answers,
        processErrors,
        probeEvery: EXTENDED ? 8 : 1,
        sinceProbe: 0,
      });
    }
  });

  afterAll(async () => {
    for (const env of envs) env.bystander.leave();
    await Promise.all(harnesses.map((h) => h.stop()));
    process.off('unhandledRejection', onProcessError);
    process.off('uncaughtException', onProcessError);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const table = (m: Map<string, number>): string[] =>
      [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k.padEnd(30)} ${String(v).padStart(7)}`);
    const usage = process.cpuUsage(cpu);
    console.log(
      [
        `${name}: ${total} cases over ${connections} connections in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
          `(process CPU ${((usage.user + usage.system) / 1e6).toFixed(1)} s; seed ${SEED}; ${EXTENDED ? 'extended' : 'default fixed-seed subset'})`,
        `probes received in order by the ${LANES} bystanders: ${envs.reduce((n, e) => n + e.bystander.seen, 0)}; bystander problems: ${envs.flatMap((e) => e.bystander.problems).length}; uncaught errors: ${processErrors.length}`,
        'cases per category:',
        ...table(counts),
        'answers checked:',
        ...table(answers),
      ].join('\n'),
    );
  });

  const lanes = async (sessions: Case[][]): Promise<void> => {
    connections += sessions.length;
    await Promise.all(sessions.map((s, i) => runSession(envs[i]!, s)));
  };

  return {
    timeout: EXTENDED ? 0 : 120_000,
    async run(session, target, defaultRuns, seedOffset) {
      const all = () => [...counts.values()].reduce((a, b) => a + b, 0);
      await runUntil(
        fc.array(session, { minLength: LANES, maxLength: LANES }),
        lanes,
        all,
        target,
        defaultRuns,
        seedOffset,
      );
      expect(envs.flatMap((e) => e.bystander.problems)).toEqual([]);
      expect(processErrors).toEqual([]);
    },
  };
}
