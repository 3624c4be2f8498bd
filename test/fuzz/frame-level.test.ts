import { describe, it } from 'vitest';
import { frameViolation, sessionOf } from './arbitraries.js';
import { TOTAL_CASES } from './budget.js';
import { hostileSuite } from './suite.js';

/**
 * Hostile input over real sockets (docs/reliability.md item 2), frame level: each connection sends a
 * few valid commands, then one RFC 6455 violation. wire-model.ts says what docs/errors.md
 * promises: 1002 for protocol errors, 1007 for invalid UTF-8, 1009 past maxPayload, the echo
 * of a valid close frame.
 */
const suite = hostileSuite('hostile input, frame level');

describe('hostile input over real sockets: frame level', () => {
  it(
    'reserved opcodes, RSV bits, fragmented or long control frames, unmasked, stray continuations, oversized, invalid UTF-8, close frames',
    async () => {
      await suite.run(sessionOf(frameViolation, 2), TOTAL_CASES * 0.2, 10, 2);
    },
    suite.timeout,
  );
});
