import { describe, it } from 'vitest';
import { randomCase, sessionOf } from './arbitraries.js';
import { TOTAL_CASES } from './budget.js';
import { hostileSuite } from './suite.js';

/**
 * Hostile input over real sockets (docs/reliability.md item 2): random bytes and random frame
 * sequences (any opcode, RSV, mask, lying lengths, truncation) after a real handshake. The
 * models decide the answer from the bytes alone, exactly as a streaming parser meets them.
 */
const suite = hostileSuite('hostile input, random bytes');

describe('hostile input over real sockets: random bytes', () => {
  it(
    'random bytes and random frame sequences after the handshake',
    async () => {
      await suite.run(sessionOf(randomCase, 2), TOTAL_CASES * 0.12, 7, 3);
    },
    suite.timeout,
  );
});
