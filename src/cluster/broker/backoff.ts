import { Duration, Effect, Schedule } from 'effect';
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS } from '../../limits.js';

/** Re-exported for the brokers' clients, which take the base delay in their own options. */
export { RECONNECT_BASE_MS };

/** Reconnect backoff: RECONNECT_BASE_MS doubling, capped at RECONNECT_CAP_MS, with jitter. The one schedule for every broker. */

export const reconnectSchedule = Schedule.exponential(Duration.millis(RECONNECT_BASE_MS)).pipe(
  Schedule.modifyDelay(({ duration }) =>
    Effect.succeed(Duration.min(Duration.fromInputUnsafe(duration), Duration.millis(RECONNECT_CAP_MS))),
  ),
);

/**
 * The schedule's delays, stepped once up front: client libraries (ioredis' retryStrategy,
 * NATS' reconnectDelayHandler) ask for a delay synchronously, attempt by attempt.
 */
const table: number[] = Effect.runSync(
  Effect.gen(function* () {
    const step = yield* Schedule.toStep(reconnectSchedule);
    const delays: number[] = [];
    for (let i = 0; i < 16; i++) {
      const [, delay] = yield* step(0, undefined);
      delays.push(Duration.toMillis(delay));
    }
    return delays;
  }),
);

export const reconnectDelayMs = (attempt: number): number => {
  const base = table[Math.min(Math.max(attempt, 0), table.length - 1)]!;
  return Math.round(base * (0.8 + Math.random() * 0.4)); // ±20% jitter so nodes do not reconnect in lockstep
};
