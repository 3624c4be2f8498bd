import fc from 'fast-check';
import { describe, it } from 'vitest';
import { jsonCase } from './arbitraries.js';
import { TOTAL_CASES } from './budget.js';
import { hostileSuite } from './suite.js';

/**
 * Hostile input over real sockets (docs/reliability.md item 2), JSON level: raw TCP clients do a real
 * handshake, then send generated messages. protocol-model.ts says what docs/protocol.md
 * promises for each (error frames with their codes and refs, acks, messages; 1008 past
 * maxBadFrames); driver.ts checks it, that the client is unregistered afterwards, that a
 * bystander keeps receiving its probes in order, and that nothing uncaught happened.
 */
const suite = hostileSuite('hostile input, JSON level');

describe('hostile input over real sockets: JSON level', () => {
  it(
    'malformed, unknown, mistyped, deep, huge, binary, command floods: documented error frames; 1008 past maxBadFrames',
    async () => {
      await suite.run(fc.array(jsonCase, { minLength: 1, maxLength: 40, size: 'max' }), TOTAL_CASES * 0.55, 4, 1);
    },
    suite.timeout,
  );
});
