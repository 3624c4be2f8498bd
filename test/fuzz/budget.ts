import fc from 'fast-check';

/**
 * How much fuzzing to do. `ACTORHUB_FUZZ_RUNS` is the total number of generated cases wanted
 * (npm run test:fuzz sets 100000); unset, each property runs a small fixed-seed subset so
 * that `npm test` stays quick and deterministic. `ACTORHUB_FUZZ_SEED` replays another seed.
 */
export const TOTAL_CASES = Number(process.env.ACTORHUB_FUZZ_RUNS ?? 0);
export const EXTENDED = TOTAL_CASES > 0;
export const SEED = Number(process.env.ACTORHUB_FUZZ_SEED ?? 6_2026);

/**
 * Runs `property` in rounds of fixed-seed runs until `cases()` reaches the target: one run
 * is one connection holding several cases, and how many depends on where it closes.
 */
export async function runUntil<T>(
  arb: fc.Arbitrary<T>,
  predicate: (t: T) => Promise<void>,
  cases: () => number,
  target: number,
  defaultRuns: number,
  seedOffset: number,
): Promise<void> {
  const property = fc.asyncProperty(arb, predicate);
  if (!EXTENDED) {
    // A failing run waits out a deadline: bound the shrinking so a failure is reported, not a hang.
    await fc.assert(property, {
      numRuns: defaultRuns,
      seed: SEED + seedOffset,
      interruptAfterTimeLimit: 90_000,
      markInterruptAsFailure: true,
    });
    return;
  }
  for (let round = 0; cases() < target; round++) {
    // The extended run reports its first counterexample (seed and path replay it) without shrinking.
    await fc.assert(property, { numRuns: 100, seed: SEED + seedOffset + round * 1_000, endOnFailure: true });
  }
}
