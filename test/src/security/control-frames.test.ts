import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientWriter } from '../../../src/transport/client-writer.js';
import type { WsConnection } from '../../../src/transport/ws-connection.js';
import type { Hub } from '../../../src/hub.js';
import type { HubOptions } from '../../../src/types.js';
import { eventually } from '../../support/eventually.js';
import { connectJson } from '../../support/json-client.js';
import { RawWs } from '../../support/raw-ws.js';
import { parsePromText } from '../../support/prom-text.js';
import { buildFrame, Op, type ServerFrame } from '../../support/ws-frame.js';
import { startHub, whenCount, type Harness } from '../../support/ws-client.js';

/**
 * docs/security.md#control-frames: a peer that floods pings and never reads. ws used to answer every ping with a
 * pong written straight to the socket, outside the writer's bounds: one raw socket grew the
 * process from 97 MiB to 2.2 GiB in 20 s. Now the writer answers pings (only while the socket
 * keeps up, the latest one otherwise), control frames count in the rate limits, and a peer that
 * keeps it up is closed with 1008.
 */

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const named: HubOptions = {
  protocol: 'json',
  authenticate: (req) => ({ id: new URL(req.url ?? '/', 'http://h').searchParams.get('id') ?? undefined }),
};

/** The server's side of a registered client's TCP socket (read-only: to see what the hub buffers for it). */
const serverSocketOf = (hub: Hub, id: string): Socket => {
  const entry = hub.actor.getSnapshot().context.clients.get(id);
  if (!entry) throw new Error(`${id} is not registered`);
  return ((entry.writer as ClientWriter).connection as WsConnection).socket;
};

const PING = buildFrame({ opcode: Op.Ping, payload: Buffer.alloc(125, 0x61) }); // the largest a ping may be
const BATCH = 500;

/**
 * Writes `count` 125-byte pings (then one carrying `last`, if given) as fast as TCP takes them,
 * never reading; stops early once `stop()` holds or the server ends the connection. Bounded.
 */
async function floodPings(raw: RawWs, count: number, stop: () => boolean, last?: string): Promise<number> {
  const batch = Buffer.concat(Array.from({ length: BATCH }, () => PING));
  let sent = 0;
  while (sent < count && !stop() && !raw.socket.destroyed) {
    const more = raw.socket.write(batch);
    sent += BATCH;
    // Not events.once: it would reject on the ECONNRESET of a server that cut us off.
    if (!more) await Promise.race([new Promise((resolve) => raw.socket.once('drain', resolve)), raw.closed]);
  }
  if (last !== undefined && !raw.socket.destroyed) {
    raw.socket.write(buildFrame({ opcode: Op.Ping, payload: Buffer.from(last) }));
    sent++;
  }
  return sent;
}

/** Frames the raw client reads until `done` holds for one (or the stream ends). */
async function readUntil(raw: RawWs, done: (f: ServerFrame) => boolean): Promise<ServerFrame[]> {
  const got: ServerFrame[] = [];
  for (;;) {
    const f = await raw.next();
    if ('kind' in f) return got;
    got.push(f);
    if (done(f)) return got;
  }
}

describe('a peer that floods pings and never reads', () => {
  it('the server buffers at most writeHighWaterBytes + one frame for it; only the latest ping is answered; a bystander is served', async () => {
    const writeHighWaterBytes = 16 * 1024;
    // The control-frame limit off: the writer's bound alone must hold.
    harness = await startHub({
      ...named,
      writeHighWaterBytes,
      outbound: { maxBytes: 64 * 1024 },
      rateLimit: { controlFramesPerSec: Number.POSITIVE_INFINITY },
    });
    const { client: bystander } = await connectJson(`${harness.url}?id=bystander`);
    const flooder = await RawWs.connect(harness.port, '/ws?id=flooder');
    await whenCount(harness.hub, (n) => n === 2);
    flooder.socket.pause(); // never reads: the kernel buffers fill, then the server's
    const server = serverSocketOf(harness.hub, 'flooder');
    const readBefore = server.bytesRead;

    const count = 100_000; // 13 MB of pings: pongs for all of them are far more than the kernels buffer
    let maxBuffered = 0;
    const sent = await floodPings(
      flooder,
      count,
      () => ((maxBuffered = Math.max(maxBuffered, server.writableLength)), false),
      'last',
    );
    expect(sent).toBe(count + 1);
    const wire = count * PING.length + 2 + 4 + 'last'.length;
    await eventually(() => server.bytesRead - readBefore >= wire, 15_000, 'the server read every ping');
    maxBuffered = Math.max(maxBuffered, server.writableLength);

    // Bounded by the writer: a pong goes out only while the socket holds less than the high-water mark.
    expect(maxBuffered).toBeLessThanOrEqual(Math.max(writeHighWaterBytes, server.writableHighWaterMark) + 127);
    expect(harness.hub.stats.controlFramesIn).toBe(count + 1);
    expect(harness.hub.stats.pongsCoalesced).toBeGreaterThan(0);
    expect(harness.hub.has('flooder')).toBe(true); // nothing closes it: the limit is off

    // The bystander's round trip still works, and it is served by the same hub.
    expect(await bystander.call({ type: 'ping' })).toMatchObject({ type: 'ack' });

    // Once the flooder reads, the pongs it gets end with the answer to its latest ping.
    flooder.socket.resume();
    const frames = (await readUntil(flooder, (f) => f.opcode === Op.Pong && f.payload.toString() === 'last')).filter(
      (f) => f.opcode !== Op.Text, // its welcome
    );
    expect(frames.every((f) => f.opcode === Op.Pong)).toBe(true);
    expect(frames.at(-1)!.payload.toString()).toBe('last');
    // Every ping was answered or superseded by a later one; most were superseded (the kernels took ~3 MB of pongs).
    const { pongsSent, pongsCoalesced } = harness.hub.stats;
    expect(frames).toHaveLength(pongsSent);
    expect(pongsSent + pongsCoalesced).toBe(count + 1);
    expect(pongsCoalesced).toBeGreaterThan(count / 2);
    flooder.destroy();
  });

  it('by default a flooder is closed with 1008 "control frame flood", counted in /metrics; a bystander is served', async () => {
    harness = await startHub({ ...named, closeTimeoutMs: 200 });
    const { client: bystander } = await connectJson(`${harness.url}?id=bystander`);
    const flooder = await RawWs.connect(harness.port, '/ws?id=flooder');
    await whenCount(harness.hub, (n) => n === 2);
    flooder.socket.pause();

    const hub = harness.hub;
    await floodPings(flooder, 100_000, () => !hub.has('flooder'));
    await eventually(() => !hub.has('flooder'), 10_000, 'the flooder is gone');

    expect(hub.stats.controlFloodCloses).toBe(1);
    expect(hub.stats.pongsSent).toBeLessThan(100); // its burst (50) and what refilled meanwhile
    const metrics = parsePromText(await hub.metrics.metrics());
    expect(metrics.get('actorhub_control_flood_closes_total')).toBe(1);
    expect(metrics.get('actorhub_disconnects_total', { reason: 'policy', code: '1008' })).toBe(1);
    expect(metrics.get('actorhub_control_frames_dropped_total')).toBeGreaterThan(10);

    expect(await bystander.call({ type: 'ping' })).toMatchObject({ type: 'ack' });
    expect(hub.has('bystander')).toBe(true);
    flooder.destroy();
  });

  it('with rate limits on, pings count as messages: the burst is answered, then 1008 "rate limit exceeded"', async () => {
    harness = await startHub({
      ...named,
      closeTimeoutMs: 500,
      // Only the message bucket can refuse here; nothing refills during the test.
      rateLimit: {
        messagesPerSec: 0.01,
        messagesBurst: 5,
        maxViolations: 3,
        controlFramesPerSec: Number.POSITIVE_INFINITY,
      },
    });
    const flooder = await RawWs.connect(harness.port, '/ws?id=flooder');
    await whenCount(harness.hub, (n) => n === 1);
    for (let i = 0; i < 20; i++) flooder.write(buildFrame({ opcode: Op.Ping, payload: Buffer.from(`p${i}`) }));
    const frames = await readUntil(flooder, (f) => f.opcode === Op.Close);
    expect(frames.filter((f) => f.opcode === Op.Pong).map((f) => f.payload.toString())).toEqual([
      'p0',
      'p1',
      'p2',
      'p3',
      'p4',
    ]);
    const close = frames.at(-1)!;
    expect(close.opcode).toBe(Op.Close);
    expect(close.payload.readUInt16BE(0)).toBe(1008);
    expect(close.payload.subarray(2).toString()).toBe('rate limit exceeded');
    expect(harness.hub.stats.rateLimited).toBe(4);
    expect(harness.hub.stats.rateLimitCloses).toBe(1);
    flooder.answerClose(1008);
    await whenCount(harness.hub, (n) => n === 0);
  });
});
