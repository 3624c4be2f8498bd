import { describe, expect, it } from 'vitest';
import { codeLabel, DISCONNECT_REASONS, reasonOfCode } from '../../../src/transport/disconnect-reason.js';

describe('disconnect reasons and close-code labels', () => {
  it('maps every code the hub or ws sends to its reason, anything else to other', () => {
    expect([1000, 1005, 1001, 1006, 1007, 1008, 1009, 1011, 4008, 4000, 3000, 1013].map(reasonOfCode)).toEqual([
      'normal',
      'normal',
      'going_away',
      'reset',
      'invalid_payload',
      'policy',
      'too_big',
      'error',
      'slow_consumer',
      'other',
      'other',
      'other',
    ]);
    for (let code = 0; code < 5000; code++) expect(DISCONNECT_REASONS).toContain(reasonOfCode(code));
  });

  it('keeps the code label bounded: RFC codes and 4008/4009 as they are, the rest by class', () => {
    const labels = new Set<string>();
    for (let code = 0; code < 70_000; code++) labels.add(codeLabel(code));
    expect(labels.size).toBe(16 + 2 + 3);
    expect([1000, 1015, 4008, 4009, 4001, 3999, 999, 5000].map(codeLabel)).toEqual([
      '1000',
      '1015',
      '4008',
      '4009',
      '4xxx',
      '3xxx',
      'other',
      'other',
    ]);
  });
});
