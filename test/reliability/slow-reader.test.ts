import { afterEach, describe, expect, it } from 'vitest';
import type { OverflowPolicy } from '../../machines/client.types.js';
import type { Hub } from '../../src/hub.js';
import type { ClientWriter } from '../../src/transport/client-writer.js';
import type { WsConnection } from '../../src/transport/ws-connection.js';
import { connect, startHub, whenCount, type Harness } from '../support/ws-client.js';
import { namedRelay as named, socketOf, seq, yieldToIo } from '../support/stalled-reader.js';

/**
 * docs/reliability.md item 1 (functional half; bench/slow-reader.ts measures it under load): one client
 * stops reading while healthy ones receive a stream many times longer than the per-client
 * limit. The server-side memory for the slow one stays within its bounds, its policy applies,
 * and the healthy ones keep getting every message, in order, and their pings.
 */

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const MAX_MESSAGES = 32;
const MAX_BYTES = 64 * 1024;
const HIGH_WATER = 64 * 1024;
const FRAME = 4 * 1024;
/** After the slow one stalls (the kernel's buffers absorb the first few MB), the stream goes on for this many times its limit. */
const STREAM_OVER_LIMIT = 16;
/** Bounds the whole stream, stall or not. */
const MAX_FRAMES = 16_384;
const HEALTHY = 5;

/** The server side of a client's socket, read through the registry (tests only). */
const serverConnection = (hub: Hub, id: string): WsConnection | undefined =>
  (hub.actor.getSnapshot().context.clients.get(id)?.writer as ClientWriter | undefined)?.connection as
    WsConnection | undefined;

describe.each(['close', 'drop-oldest', 'drop-newest'] as const)(
  'slow reader among healthy clients, policy %s',
  (policy: OverflowPolicy) => {
    it('keeps the slow one within its bounds, applies the policy, and serves the healthy ones fully', async () => {
      harness = await startHub({
        ...named,
        outbound: { policy, maxMessages: MAX_MESSAGES, maxBytes: MAX_BYTES },
        writeHighWaterBytes: HIGH_WATER,
        pingIntervalMs: 20,
        pongWaitMs: 60_000, // the paused reader must meet its policy, not the heartbeat
        closeTimeoutMs: 100,
      });
      const hub = harness.hub;
      const healthy = await Promise.all(Array.from({ length: HEALTHY }, (_, i) => connect(`${harness!.url}?id=h${i}`)));
      const slow = await connect(`${harness.url}?id=slow`);
      await whenCount(hub, (n) => n === HEALTHY + 1);
      socketOf(slow).pause();
      const pings = healthy.map(() => 0);
      healthy.forEach((c, i) => c.ws.on('ping', () => pings[i]!++));

      const filler = 'x'.repeat(FRAME - 8);
      const extra = Math.ceil((STREAM_OVER_LIMIT * (MAX_BYTES + HIGH_WATER)) / FRAME);
      let total = MAX_FRAMES;
      let sent = 0;
      let maxBuffered = 0;
      let pingsAtStall: number[] | undefined;
      while (sent < total) {
        for (let k = 0; k < 8; k++) hub.broadcast(`${String(sent++).padStart(7, '0')}|${filler}`);
        await yieldToIo();
        const conn = serverConnection(hub, 'slow');
        if (conn) maxBuffered = Math.max(maxBuffered, conn.bufferedAmount);
        // Keep the healthy ones from falling behind the stream (they are not the subject here).
        await Promise.all(healthy.map((c) => c.received(sent - 64)));
        if (!pingsAtStall && (hub.stats.dropped > 0 || hub.stats.slowConsumerCloses > 0)) {
          pingsAtStall = [...pings];
          total = Math.min(total, sent + extra);
        }
      }
      expect(pingsAtStall, 'the slow reader never stalled').toBeDefined();

      // The healthy clients got every message, in order.
      for (const c of healthy) {
        await c.received(sent);
        expect(seq(c)).toEqual(Array.from({ length: sent }, (_, i) => i));
      }
      // Their pings kept flowing after the slow one stalled: wait for two more sweeps each.
      await Promise.all(
        healthy.map(
          (c, i) =>
            new Promise<void>((resolve) =>
              pings[i]! >= pingsAtStall![i]! + 2
                ? resolve()
                : c.ws.on('ping', () => pings[i]! >= pingsAtStall![i]! + 2 && resolve()),
            ),
        ),
      );

      // What the server held for the slow one never exceeded its bounds.
      expect(hub.stats.queuePeakMessages).toBeLessThanOrEqual(MAX_MESSAGES);
      expect(hub.stats.queuePeakBytes).toBeLessThanOrEqual(MAX_BYTES);
      expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER + FRAME + 16);

      if (policy === 'close') {
        await whenCount(hub, (n) => n === HEALTHY);
        expect(hub.has('slow')).toBe(false);
        expect(hub.stats.slowConsumerCloses).toBe(1);
        socketOf(slow).resume();
        expect([4008, 1006]).toContain((await slow.closed).code); // 4008 unless the terminate won the race
      } else {
        expect(hub.has('slow')).toBe(true);
        expect(hub.stats.slowConsumerCloses).toBe(0);
        const dropped = hub.stats.dropped;
        expect(dropped).toBeGreaterThanOrEqual(extra); // everything past the stall was dropped (and counted), not held
        socketOf(slow).resume();
        await slow.received(sent - dropped);
        const got = seq(slow);
        expect(got.length).toBe(sent - dropped); // exactly the counted ones are missing
        expect(got.every((n, i) => i === 0 || n > got[i - 1]!)).toBe(true);
        if (policy === 'drop-oldest') expect(got.at(-1)).toBe(sent - 1);
        else expect(got[0]).toBe(0);
      }
    });
  },
);
