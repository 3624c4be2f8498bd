import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { corkForTick, type Corkable } from '../../src/tick-cork.js';

const fake = () => {
  const calls: string[] = [];
  const socket = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') } as unknown as Socket;
  const c: Corkable = { socket, corked: false };
  return { c, calls };
};
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('corkForTick', () => {
  it('corks each socket once per tick and uncorks them all on the next tick', async () => {
    const [a, b] = [fake(), fake()];
    for (let i = 0; i < 5; i++) {
      corkForTick(a.c);
      corkForTick(b.c);
    }
    expect([a.calls, b.calls]).toEqual([['cork'], ['cork']]);
    expect(a.c.corked).toBe(true);
    await nextTick();
    expect([a.calls, b.calls]).toEqual([['cork', 'uncork'], ['cork', 'uncork']]);
    expect(a.c.corked).toBe(false);
    corkForTick(a.c);
    await nextTick();
    expect(a.calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });
});
