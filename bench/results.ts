/** The JSON a run writes (bench/results/latest.json, or quick.json for --quick). */
import type { Machine } from './machine.js';
import type { Options, Settings } from './plan.js';
import type { RunRecord, Summary } from './summary.js';

export interface Results {
  readonly version: 1;
  readonly mode: 'full' | 'quick';
  readonly command: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSec: number;
  readonly options: Options;
  readonly settings: Settings;
  readonly machine: Machine;
  readonly notes: readonly string[];
  readonly runs: readonly RunRecord[];
  readonly summary: Summary;
}
