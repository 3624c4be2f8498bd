import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { writeInTick, type Corkable } from '../../../src/transport/tick-cork.js';

const fake = () => {
  const calls: string[] = [];
  const socket = {
    cork: () => calls.push('cork'),
    uncork: () => calls.push('uncork'),
    write: (data: Buffer) => calls.push(`write ${data.toString()}`),
  } as unknown as Socket;
  const c: Corkable = { socket, tick: 0 };
  return { c, calls };
};
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('writeInTick', () => {
  it('writes the first frame of a tick straight through, corks for the rest of a burst, uncorks every socket on the next tick', async () => {
    const [a, b] = [fake(), fake()];
    for (let i = 0; i < 3; i++) {
      writeInTick(a.c, Buffer.from(`a${i}`));
      writeInTick(b.c, Buffer.from(`b${i}`));
    }
    expect(a.calls).toEqual(['write a0', 'cork', 'write a1', 'write a2']);
    expect(b.calls).toEqual(['write b0', 'cork', 'write b1', 'write b2']);
    await nextTick();
    expect(a.calls.at(-1)).toBe('uncork');
    expect(b.calls.at(-1)).toBe('uncork');
    expect(a.c.tick).toBe(0);
  });

  it('a lone frame per tick is never corked (no added latency)', async () => {
    const a = fake();
    writeInTick(a.c, Buffer.from('x'));
    await nextTick();
    writeInTick(a.c, Buffer.from('y'));
    await nextTick();
    expect(a.calls).toEqual(['write x', 'write y']);
    expect(a.c.tick).toBe(0);
  });
});
