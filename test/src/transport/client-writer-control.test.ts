import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../machines/connection.js';
import { controlFrameLimits, type RateLimits } from '../../../src/admission/rate-limit.js';
import { ClientWriter } from '../../../src/transport/client-writer.js';
import { createStats } from '../../../src/observability/stats.js';

/** A connection whose backpressure the test sets, recording every control frame the writer writes. */
function scripted() {
  const log: string[] = [];
  const conn: Connection & { writable: boolean } = {
    remoteAddress: '127.0.0.1',
    bufferedAmount: 0,
    isOpen: true,
    writable: true,
    listen: () => () => undefined,
    write: () => void log.push('frame'),
    ping: () => void log.push('ping'),
    pong: (data) => void log.push(`pong:${data.toString()}`),
    close: (code, reason) => void log.push(`close:${code}:${reason}`),
    terminate: () => void log.push('terminate'),
  };
  return { conn, log };
}

const rate = (r: Partial<RateLimits> = {}): RateLimits => ({
  messagesPerSec: Number.POSITIVE_INFINITY,
  messagesBurst: 200,
  bytesPerSec: Number.POSITIVE_INFINITY,
  bytesBurst: 1 << 20,
  maxViolations: 2,
  violationWindowMs: 60_000,
  controlFramesPerSec: 0.001, // nothing refills during a test
  controlFramesBurst: 3,
  presenceQueriesPerSec: Number.POSITIVE_INFINITY,
  presenceQueriesBurst: 1,
  ...r,
});

function writer(r: RateLimits = rate()) {
  const { conn, log } = scripted();
  const stats = createStats();
  const events: string[] = [];
  const w = new ClientWriter(
    { id: 'c', connection: conn, limits: { maxMessages: 4, maxBytes: 1024, policy: 'close' }, pongWaitMs: 60_000 },
    { stats, inbound: { rate: r, limitedFrame: undefined, control: controlFrameLimits(r) } },
  );
  w.start({ send: (e) => void events.push(e.type) });
  return { w, conn, log, stats, events };
}

const now = () => Date.now();

describe('ClientWriter: control frames within the bounds', () => {
  it('answers a ping at once while the socket keeps up; while backed up keeps only the latest, sent on drain', () => {
    const { w, conn, log, stats } = writer(rate({ controlFramesPerSec: Number.POSITIVE_INFINITY }));
    w.ping(Buffer.from('a'));
    conn.writable = false;
    w.ping(Buffer.from('b'));
    w.ping(Buffer.from('c'));
    expect(log).toEqual(['pong:a']);
    conn.writable = true;
    w.drain();
    expect(log).toEqual(['pong:a', 'pong:c']);
    expect(stats).toMatchObject({ pongsSent: 2, pongsCoalesced: 1, controlFramesIn: 3 });
  });

  it('a heartbeat that finds the socket backed up pings on drain, not into the backlog', () => {
    const { w, conn, log, stats } = writer();
    conn.writable = false;
    w.send({ type: 'writer.heartbeat', now: now() });
    expect(log).toEqual([]);
    conn.writable = true;
    w.drain();
    expect(log).toEqual(['ping']);
    expect(stats.pingsSent).toBe(1);
  });

  it('the pong answering a heartbeat is free; unsolicited pongs and pings share the control limit', () => {
    const { w, log, stats, events } = writer();
    w.send({ type: 'writer.heartbeat', now: now() });
    w.pong(Buffer.alloc(0)); // the answer: not counted
    expect(stats.controlFramesIn).toBe(0);
    w.pong(Buffer.alloc(0)); // unsolicited: 1 of the burst of 3
    w.ping(Buffer.from('1'));
    w.ping(Buffer.from('2'));
    w.ping(Buffer.from('3')); // dropped: violation 1
    w.ping(Buffer.from('4')); // violation 2
    expect(log).toEqual(['ping', 'pong:1', 'pong:2']);
    expect(events).toEqual([]);
    w.ping(Buffer.from('5')); // violation 3 > maxViolations: 1008
    expect(log.at(-1)).toBe('close:1008:control frame flood');
    expect(events).toEqual(['client.rateLimited']);
    expect(stats).toMatchObject({ controlFramesIn: 6, controlFramesDropped: 3, controlFloodCloses: 1 });
  });

  it('after the close, a peer that keeps flooding stops being read', () => {
    const { w, conn } = writer();
    let paused = false;
    conn.stopReading = () => void (paused = true);
    for (let i = 0; i < 6; i++) w.ping(Buffer.from('x')); // 3 pass, the 3rd violation closes
    expect(paused).toBe(false);
    for (let i = 0; i < 3; i++) w.ping(Buffer.from('x')); // maxViolations (2) more are tolerated
    expect(paused).toBe(true);
  });
});
