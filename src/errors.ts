import { Data } from 'effect';

/** Why a configuration was refused: always with a full sentence in `message`. */
export type ConfigErrorReason = 'invalid-number' | 'invalid-choice' | 'invariant' | 'unknown-flag' | 'invalid-value';

/** Misconfiguration, raised at start-up (createHub, the CLI, the server layer). */
export class HubConfigError extends Data.TaggedError('HubConfigError')<{
  readonly reason: ConfigErrorReason;
  readonly message: string;
}> {}

/** The standalone server could not start (port in use, bad host...), or its hub actor failed while running. */
export class HubServerError extends Data.TaggedError('HubServerError')<{
  readonly reason: 'listen-failed' | 'broker-unreachable' | 'inspector-failed' | 'hub-failed';
  readonly message: string;
  readonly cause?: unknown;
}> {}

/** Why publishConfirmed failed: `unavailable` (history store unreachable), `encode_failed`, `shutting_down`. */
export class PublishError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}
