import { afterEach, describe, expect, it } from 'vitest';
import type { OverflowPolicy } from '../../../machines/client.types.js';
import type { Hub } from '../../../src/hub.js';
import { connect, startHub, whenCount, type Harness } from '../../support/ws-client.js';
import { namedRelay as named, socketOf, seq, yieldToIo } from '../../support/stalled-reader.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/**
 * Broadcasts numbered 16 KiB messages, yielding to I/O between batches, until `until()` holds
 * (then `extra` more) or `max` were sent. Bounded: it stops by itself.
 */
async function flood(hub: Hub, until: () => boolean, extra = 0, max = 6_000): Promise<number> {
  const filler = 'x'.repeat(16 * 1024 - 8);
  let sent = 0;
  let after = -1;
  while (sent < max && after !== 0) {
    for (let k = 0; k < 8; k++) hub.broadcast(`${String(sent++).padStart(7, '0')}|${filler}`);
    await yieldToIo();
    if (after > 0) after = Math.max(0, after - 8);
    else if (after < 0 && until()) after = extra;
  }
  expect(after, `condition not reached after ${max} messages`).toBe(0);
  return sent;
}

describe('slow consumers: a client that stops reading', () => {
  const start = (policy: OverflowPolicy) =>
    startHub({ ...named, outbound: { policy, maxMessages: 8, maxBytes: 256 * 1024 }, closeTimeoutMs: 100 });

  it("'close' (default): the slow client is closed and unregistered; the others get everything, in order", async () => {
    harness = await start('close');
    const healthy = await connect(`${harness.url}?id=healthy`);
    const slow = await connect(`${harness.url}?id=slow`);
    await whenCount(harness.hub, (n) => n === 2);
    socketOf(slow).pause();
    const sent = await flood(harness.hub, () => harness!.hub.stats.slowConsumerCloses > 0);
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.has('slow')).toBe(false);
    await healthy.received(sent);
    expect(seq(healthy)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(harness.hub.stats.slowConsumerCloses).toBe(1);
    socketOf(slow).resume();
    const { code } = await slow.closed;
    expect([4008, 1006]).toContain(code); // 4008 if the close frame got out before the terminate
  });

  it.each(['drop-newest', 'drop-oldest'] as const)(
    "'%s': the slow client stays, loses exactly the counted messages, keeps order",
    async (policy) => {
      harness = await start(policy);
      const healthy = await connect(`${harness.url}?id=healthy`);
      const slow = await connect(`${harness.url}?id=slow`);
      await whenCount(harness.hub, (n) => n === 2);
      socketOf(slow).pause();
      const sent = await flood(harness.hub, () => harness!.hub.stats.dropped > 0, 64);
      await healthy.received(sent);
      expect(seq(healthy)).toEqual(Array.from({ length: sent }, (_, i) => i));

      socketOf(slow).resume();
      const dropped = harness.hub.stats.dropped;
      await slow.received(sent - dropped);
      const got = seq(slow);
      expect(got.length).toBe(sent - dropped);
      expect(got.every((n, i) => i === 0 || n > got[i - 1]!)).toBe(true);
      expect(got[0]).toBe(0);
      if (policy === 'drop-newest') expect(got.at(-1)).toBeLessThan(sent - 1);
      else expect(got.at(-1)).toBe(sent - 1);
      // Still connected and served.
      expect(harness.hub.has('slow')).toBe(true);
      harness.hub.send('slow', 'still here');
      await slow.received(sent - dropped + 1);
      expect(slow.texts.at(-1)).toBe('still here');
    },
  );

  it('a heartbeat ping is not written into a backed-up socket: it waits for drain, then goes ahead of the queue', async () => {
    let sweeps = 0;
    let onSweep = (): void => undefined;
    harness = await startHub({
      ...named,
      outbound: { policy: 'drop-newest', maxMessages: 4 },
      pingIntervalMs: 20,
      pongWaitMs: 60_000,
      inspect: (ev) => {
        if (ev.type === '@xstate.event' && ev.event.type === 'hub.sweep') {
          sweeps++;
          onSweep();
        }
      },
    });
    const slow = await connect(`${harness.url}?id=slow`);
    await whenCount(harness.hub, (n) => n === 1);
    const order: (number | 'ping')[] = [];
    slow.ws.on('ping', () => order.push('ping'));
    slow.ws.on('message', (data: Buffer) => order.push(Number(data.toString().slice(0, 7))));
    socketOf(slow).pause();
    const sent = await flood(harness.hub, () => harness!.hub.stats.dropped > 0);
    // Two sweeps while the socket is backed up: neither writes a ping behind bytes the peer does not read
    // (every byte written for a client stays within its bounds: docs/security.md#control-frames).
    const pingsWhenFull = harness.hub.stats.pingsSent;
    const target = sweeps + 2;
    await new Promise<void>((resolve) => (onSweep = () => sweeps >= target && resolve()));
    expect(harness.hub.stats.pingsSent).toBe(pingsWhenFull);
    socketOf(slow).resume();
    await slow.received(sent - harness.hub.stats.dropped);
    // On drain the waiting ping goes first, ahead of the frames still queued.
    const lastData = order.findLastIndex((e) => e !== 'ping');
    expect(order.slice(0, lastData).filter((e) => e === 'ping').length).toBeGreaterThanOrEqual(1);
    expect(harness.hub.stats.pingsSent).toBeGreaterThan(pingsWhenFull);
  });
});

describe('heartbeat', () => {
  it('terminates a peer that stops answering pings; healthy peers stay', async () => {
    harness = await startHub({ ...named, pingIntervalMs: 30, pongWaitMs: 80 });
    const healthy = await connect(`${harness.url}?id=healthy`);
    const silent = await connect(`${harness.url}?id=silent`, { autoPong: false });
    await whenCount(harness.hub, (n) => n === 2);
    const { code } = await silent.closed;
    expect(code).toBe(1006); // terminated: no closing handshake with a dead peer
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.stats.heartbeatTimeouts).toBe(1);
    // The healthy peer keeps being pinged and stays registered through several more sweeps.
    let pings = 0;
    await new Promise<void>((resolve) => healthy.ws.on('ping', () => ++pings === 4 && resolve()));
    expect(harness.hub.has('healthy')).toBe(true);
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
  });
});

describe('inbound limits (enforced by ws, answered with RFC 6455 close codes)', () => {
  it('a message larger than maxPayload closes that client with 1009; others are unaffected', async () => {
    harness = await startHub({ ...named, maxPayload: 1024 });
    const big = await connect(`${harness.url}?id=big`);
    const other = await connect(`${harness.url}?id=other`);
    const peer = await connect(`${harness.url}?id=peer`);
    await whenCount(harness.hub, (n) => n === 3);
    big.send('x'.repeat(1025));
    expect((await big.closed).code).toBe(1009);
    await whenCount(harness.hub, (n) => n === 2);
    other.send('x'.repeat(1024)); // exactly the limit is fine
    await peer.received(1);
    expect(peer.texts[0]!.length).toBe(1024);
  });

  it('a fragmented message whose total exceeds maxPayload closes with 1009', async () => {
    harness = await startHub({ ...named, maxPayload: 1024 });
    const c = await connect(`${harness.url}?id=c`);
    await whenCount(harness.hub, (n) => n === 1);
    c.ws.send('a'.repeat(600), { fin: false });
    c.ws.send('b'.repeat(600), { fin: true });
    expect((await c.closed).code).toBe(1009);
    await whenCount(harness.hub, (n) => n === 0);
  });

  it('a text frame that is not valid UTF-8 closes that client with 1007', async () => {
    harness = await startHub(named);
    const bad = await connect(`${harness.url}?id=bad`);
    const peer = await connect(`${harness.url}?id=peer`);
    await whenCount(harness.hub, (n) => n === 2);
    bad.ws.send(Buffer.from([0xc3, 0x28]), { binary: false });
    expect((await bad.closed).code).toBe(1007);
    await whenCount(harness.hub, (n) => n === 1);
    expect(peer.messages).toEqual([]);
    expect(peer.ws.readyState).toBe(peer.ws.OPEN);
  });
});

describe('shutdown hand-over', () => {
  it('on close() the writer reports its socket’s end to the hub, so the client is stopped without a step through closed', async () => {
    harness = await startHub(named);
    const client = await connect(`${harness.url}?id=a`);
    await whenCount(harness.hub, (n) => n === 1);
    const ref = harness.hub.actor.getSnapshot().context.clients.get('a')!.ref;
    const seen: string[] = [];
    ref.subscribe((snap) => seen.push(String(snap.value)));
    await harness.hub.close();
    expect((await client.closed).code).toBe(1001);
    expect(seen).toEqual([]);
    expect(ref.getSnapshot()).toMatchObject({ value: 'open', status: 'stopped' });
  });
});
