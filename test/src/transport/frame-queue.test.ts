import { describe, expect, it } from 'vitest';
import { FrameQueue } from '../../../src/transport/frame-queue.js';

/** A frame with an identity (for FIFO checks) and a size (for the byte count). */
interface TestFrame {
  readonly id: number;
  readonly byteLength: number;
}

const frame = (id: number, byteLength: number): TestFrame => ({ id, byteLength });

/** Mulberry32: a small deterministic PRNG, so a failure reproduces from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** shift(), typed back to the test's own frames (FrameQueue only knows byteLength). */
const shiftTest = (q: FrameQueue): TestFrame | undefined => q.shift() as TestFrame | undefined;

const sumBytes = (frames: readonly TestFrame[]): number => frames.reduce((n, f) => n + f.byteLength, 0);

describe('FrameQueue', () => {
  it('starts empty', () => {
    const q = new FrameQueue();
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('shifts frames in the order they were pushed, the same objects', () => {
    const q = new FrameQueue();
    const a = frame(1, 10);
    const b = frame(2, 20);
    const c = frame(3, 30);
    q.push(a);
    q.push(b);
    q.push(c);
    expect(q.shift()).toBe(a);
    expect(q.shift()).toBe(b);
    expect(q.shift()).toBe(c);
    expect(q.shift()).toBeUndefined();
  });

  it('keeps length and bytes in step with push and shift', () => {
    const q = new FrameQueue();
    q.push(frame(1, 10));
    expect([q.length, q.bytes]).toEqual([1, 10]);
    q.push(frame(2, 5));
    expect([q.length, q.bytes]).toEqual([2, 15]);
    q.shift();
    expect([q.length, q.bytes]).toEqual([1, 5]);
    q.shift();
    expect([q.length, q.bytes]).toEqual([0, 0]);
  });

  it('counts zero-byte frames in length but not in bytes', () => {
    const q = new FrameQueue();
    q.push(frame(1, 0));
    q.push(frame(2, 0));
    expect(q.length).toBe(2);
    expect(q.bytes).toBe(0);
    expect(q.shift()?.byteLength).toBe(0);
    expect(q.length).toBe(1);
  });

  it('shift on an empty queue changes nothing, and the queue is usable afterwards', () => {
    const q = new FrameQueue();
    expect(q.shift()).toBeUndefined();
    expect(q.shift()).toBeUndefined();
    expect([q.length, q.bytes]).toEqual([0, 0]);
    const a = frame(1, 7);
    q.push(a);
    expect([q.length, q.bytes]).toEqual([1, 7]);
    expect(q.shift()).toBe(a);
  });

  it('clear() empties it and resets the byte count', () => {
    const q = new FrameQueue();
    for (let i = 0; i < 10; i++) q.push(frame(i, 3));
    q.shift();
    q.clear();
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.shift()).toBeUndefined();
    const a = frame(99, 4);
    q.push(a);
    expect([q.length, q.bytes]).toEqual([1, 4]);
    expect(q.shift()).toBe(a);
  });

  it('alternating push/shift far past the compaction threshold keeps FIFO and the counts', () => {
    const q = new FrameQueue();
    q.push(frame(0, 1));
    // The queue never empties (one frame always stays), so the head walks far past 1024.
    for (let i = 1; i <= 10_000; i++) {
      q.push(frame(i, i % 7));
      const out = shiftTest(q);
      expect(out?.id).toBe(i - 1);
      expect(q.length).toBe(1);
    }
    expect(q.bytes).toBe(10_000 % 7);
    expect(shiftTest(q)?.id).toBe(10_000);
    expect(q.length).toBe(0);
  });

  it('drains a large queue across the compaction point without losing or reordering frames', () => {
    const q = new FrameQueue();
    const n = 5_000;
    for (let i = 0; i < n; i++) q.push(frame(i, (i % 13) + 1));
    let expectedBytes = 0;
    for (let i = 0; i < n; i++) expectedBytes += (i % 13) + 1;
    expect(q.bytes).toBe(expectedBytes);
    // Shift a bit more than half, so the dead prefix (>= 1024 and >= half) triggers compaction,
    // then push more and drain: order and counts must be unaffected.
    for (let i = 0; i < 2_600; i++) {
      expect(shiftTest(q)?.id).toBe(i);
      expectedBytes -= (i % 13) + 1;
    }
    expect(q.length).toBe(n - 2_600);
    expect(q.bytes).toBe(expectedBytes);
    for (let i = n; i < n + 100; i++) {
      q.push(frame(i, 2));
      expectedBytes += 2;
    }
    expect(q.bytes).toBe(expectedBytes);
    for (let i = 2_600; i < n + 100; i++) expect(shiftTest(q)?.id).toBe(i);
    expect(q.shift()).toBeUndefined();
    expect([q.length, q.bytes]).toEqual([0, 0]);
  });

  it('matches a plain array model over thousands of random operations (several seeds)', () => {
    for (const seed of [1, 2, 3, 42, 1337, 20_240_601]) {
      const random = rng(seed);
      const q = new FrameQueue();
      const model: TestFrame[] = [];
      let modelBytes = 0;
      let nextId = 0;
      let maxLength = 0;
      let compactionCrossings = 0;
      let shiftsSinceEmpty = 0;
      const ops = 20_000;
      for (let op = 0; op < ops; op++) {
        // Phases bias towards growth, then draining, so the queue gets long (thousands of
        // frames) and the head passes 1024 while frames are still live.
        const phase = Math.floor(op / 4_000) % 3;
        const pushBias = phase === 0 ? 0.75 : phase === 1 ? 0.5 : 0.3;
        const r = random();
        const context = (): string => `seed ${seed}, op ${op}`;
        if (r < 0.0002) {
          q.clear();
          model.length = 0;
          modelBytes = 0;
          shiftsSinceEmpty = 0;
        } else if (r < pushBias) {
          const f = frame(nextId++, Math.floor(random() * 2_000));
          q.push(f);
          model.push(f);
          modelBytes += f.byteLength;
        } else {
          const expected = model.shift();
          const actual = q.shift();
          if (actual !== expected) expect(actual, context()).toBe(expected);
          if (expected !== undefined) {
            modelBytes -= expected.byteLength;
            shiftsSinceEmpty++;
          }
          if (model.length === 0) shiftsSinceEmpty = 0;
          if (shiftsSinceEmpty === 1024) compactionCrossings++;
        }
        // Plain comparisons first: calling expect 100k times would dominate the run time.
        if (q.length !== model.length) expect(q.length, context()).toBe(model.length);
        if (q.bytes !== modelBytes) expect(q.bytes, context()).toBe(modelBytes);
        maxLength = Math.max(maxLength, model.length);
      }
      // The run really exercised the interesting region: long queues and >= 1024 shifts
      // without the queue emptying (the compaction path, not the reset-on-empty path).
      expect(maxLength, `seed ${seed}`).toBeGreaterThan(1_024);
      expect(compactionCrossings, `seed ${seed}`).toBeGreaterThan(0);
      expect(modelBytes, `seed ${seed}`).toBe(sumBytes(model)); // the running model sum itself is right
      // Drain what is left: still FIFO.
      while (model.length > 0) expect(q.shift()).toBe(model.shift());
      expect(q.shift()).toBeUndefined();
      expect([q.length, q.bytes]).toEqual([0, 0]);
    }
  });
});
