import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import type { HubOptions } from '../../../src/types.js';
import { connectJson } from '../../support/json-client.js';
import { connect, startHub, whenCount, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger at `level` writing into an array of parsed lines, and the raw text. */
function capture(level: 'debug' | 'info' | 'warn') {
  const lines: Line[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines, raw: () => raw };
}

const SECRET = 'payload-must-not-be-logged-7f3a';

const start = (options: HubOptions) => startHub({ ...options }).then((h) => (harness = h));

describe('structured logs (pino)', () => {
  it('at debug: one line per connect and per disconnect, with client id, reason and close code, never a payload', async () => {
    const log = capture('debug');
    const h = await start({ logger: log.logger });
    const { client: a, id: aId } = await connectJson(h.url);
    const { client: b, id: bId } = await connectJson(h.url);
    await a.call({ type: 'subscribe', topic: 'room' });
    await b.call({ type: 'subscribe', topic: 'room' });
    a.send({ type: 'publish', topic: 'room', data: { secret: SECRET } });
    a.send({ type: 'send', to: bId, data: SECRET });
    a.send(`{"type":"publish","topic":"room","data":"${SECRET}"`); // bad JSON: an error frame, logged nowhere
    await b.next('message');
    await b.next('message');
    await a.next('error');
    a.raw.ws.close(1000, 'done here');
    await whenCount(h.hub, (n) => n === 1);
    b.raw.ws.terminate();
    await whenCount(h.hub, (n) => n === 0);

    const connected = log.lines.filter((l) => l.msg === 'client connected');
    expect(connected.map((l) => l.client).sort()).toEqual([aId, bId].sort());
    expect(connected.every((l) => l.level === 20 && typeof l.remote === 'string')).toBe(true);
    const gone = log.lines.filter((l) => l.msg === 'client disconnected');
    expect(gone).toHaveLength(2);
    expect(gone[0]).toMatchObject({
      level: 20,
      client: aId,
      reason: 'normal',
      code: 1000,
      closeReason: 'done here',
      by: 'peer',
    });
    expect(gone[1]).toMatchObject({ level: 20, client: bId, reason: 'reset', code: 1006, by: 'peer' });
    expect(typeof gone[0]!.durationMs).toBe('number');
    expect(log.raw()).not.toContain(SECRET);
  });

  it('a policy close (bad frames, slow consumer, heartbeat, size) is one warn line with its reason', async () => {
    const log = capture('warn');
    const h = await start({ logger: log.logger, maxBadFrames: 1, maxPayload: 1024 });
    const bad = await connect(h.url);
    const big = await connect(h.url);
    const ok = await connect(h.url);
    await whenCount(h.hub, (n) => n === 3);
    bad.send(`not json ${SECRET}`);
    bad.send(`still not json ${SECRET}`);
    expect((await bad.closed).code).toBe(1008);
    big.send(`${SECRET}${'x'.repeat(2048)}`);
    expect((await big.closed).code).toBe(1009);
    ok.ws.close();
    await whenCount(h.hub, (n) => n === 0);
    expect(log.lines.map((l) => [l.level, l.msg, l.reason, l.code])).toEqual([
      [40, 'client closed by policy', 'policy', 1008],
      [40, 'client closed by policy', 'too_big', 1009],
    ]);
    expect(log.raw()).not.toContain(SECRET);
  });

  it('at info nothing is written for ordinary connects and disconnects', async () => {
    const log = capture('info');
    const h = await start({ logger: log.logger });
    const c = await connect(h.url);
    await whenCount(h.hub, (n) => n === 1);
    c.ws.close();
    await whenCount(h.hub, (n) => n === 0);
    expect(log.lines).toEqual([]);
  });

  it('createLogger is pino at the given level, writing JSON lines to the given destination', () => {
    const log = capture('debug');
    const stream = new Writable({
      write: (chunk: Buffer, _e, done) => (log.lines.push(JSON.parse(chunk.toString()) as Line), done()),
    });
    const logger = createLogger('warn', stream);
    logger.info({ a: 1 }, 'hidden');
    logger.warn({ client: 'c1' }, 'shown');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ level: 40, msg: 'shown', client: 'c1', name: 'actorhub' });
  });
});
