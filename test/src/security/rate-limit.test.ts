import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../../src/hub.js';
import { InboundRateLimiter, type RateLimits } from '../../../src/admission/rate-limit.js';
import { TokenBucket } from '../../../src/admission/token-bucket.js';
import { connectJson } from '../../support/json-client.js';
import { connect, startHub, whenCount, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('TokenBucket (lazy refill from the caller’s clock)', () => {
  it('allows a burst, refuses beyond it, refills with elapsed time up to the burst', () => {
    const b = new TokenBucket(10, 3, 0); // 10 per second, 3 at once
    expect([b.take(1, 0), b.take(1, 0), b.take(1, 0), b.take(1, 0)]).toEqual([true, true, true, false]);
    expect(b.take(1, 50)).toBe(false); // half a token
    expect(b.take(1, 100)).toBe(true); // one token after 100 ms
    expect(b.take(1, 100)).toBe(false);
    expect([b.take(1, 60_000), b.take(1, 60_000), b.take(1, 60_000), b.take(1, 60_000)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(b.take(5, 1e9)).toBe(false); // never more than the burst at once
  });

  it('a clock that goes nowhere refills nothing; Infinity never refuses', () => {
    const b = new TokenBucket(1000, 1, 100);
    expect(b.take(1, 100)).toBe(true);
    expect(b.take(1, 99)).toBe(false);
    const open = new TokenBucket(Number.POSITIVE_INFINITY, 1, 0);
    for (let i = 0; i < 1000; i++) expect(open.take(1e6, 0)).toBe(true);
  });
});

describe('InboundRateLimiter', () => {
  const limits = (r: Partial<RateLimits>): RateLimits => ({
    messagesPerSec: Number.POSITIVE_INFINITY,
    messagesBurst: 1,
    bytesPerSec: Number.POSITIVE_INFINITY,
    bytesBurst: 1,
    maxViolations: 2,
    violationWindowMs: 1000,
    controlFramesPerSec: Number.POSITIVE_INFINITY,
    controlFramesBurst: 1,
    presenceQueriesPerSec: Number.POSITIVE_INFINITY,
    presenceQueriesBurst: 1,
    ...r,
  });

  it('limits messages, then closes past maxViolations within the window', () => {
    const l = new InboundRateLimiter(limits({ messagesPerSec: 1, messagesBurst: 2 }), 0);
    expect([l.check(1, 0), l.check(1, 0), l.check(1, 0), l.check(1, 0), l.check(1, 0)]).toEqual([
      'ok',
      'ok',
      'limited',
      'limited',
      'close',
    ]);
  });

  it('limits bytes; a refused message costs no tokens of either bucket', () => {
    const l = new InboundRateLimiter(
      limits({ messagesPerSec: 1, messagesBurst: 2, bytesPerSec: 100, bytesBurst: 100 }),
      0,
    );
    expect(l.check(80, 0)).toBe('ok');
    expect(l.check(80, 0)).toBe('limited'); // too many bytes: its message token is refunded
    expect(l.check(20, 0)).toBe('ok'); // so this one still has a message token
  });

  it('violations older than the window are forgotten', () => {
    const l = new InboundRateLimiter(limits({ messagesPerSec: 0.001, messagesBurst: 1 }), 0);
    expect([l.check(1, 0), l.check(1, 0), l.check(1, 0)]).toEqual(['ok', 'limited', 'limited']);
    expect(l.check(1, 1500)).toBe('limited'); // a new window: 1 violation, not 3
    expect(l.check(1, 1500)).toBe('limited');
    expect(l.check(1, 1500)).toBe('close');
  });
});

describe('rate limits over real sockets', () => {
  // A rate so low nothing refills during the test, whatever the machine's load: only the burst passes.
  const rateLimit = { messagesPerSec: 0.01, messagesBurst: 5, maxViolations: 3 };
  const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('JSON: a flooding client gets rate_limited, then 1008; another client receives everything, in order', async () => {
    harness = await startHub({ protocol: 'json', rateLimit, closeTimeoutMs: 100 });
    const { client: healthy } = await connectJson(harness.url);
    const { client: flooder } = await connectJson(harness.url);
    await whenCount(harness.hub, (n) => n === 2);
    // The healthy client's own command passes: limits are per client.
    expect(await healthy.call({ type: 'subscribe', topic: 't' })).toMatchObject({ type: 'ack' });
    const total = 300;
    for (let i = 0; i < total; i++) {
      harness.hub.publish('t', { seq: i });
      if (i < 40) flooder.send({ type: 'publish', topic: 't', data: { flood: i } });
      if (i % 20 === 0) await yieldToIo();
    }
    const closed = await flooder.raw.closed;
    expect(closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    const errors = flooder.frames.filter((f) => f.type === 'error');
    expect(errors).toHaveLength(3);
    for (const e of errors)
      expect(e).toEqual({
        type: 'error',
        code: 'rate_limited',
        message: 'rate limit exceeded (0.01 messages/s): message dropped',
      });
    expect(harness.hub.stats.rateLimited).toBe(4);
    expect(harness.hub.stats.rateLimitCloses).toBe(1);

    const fromHub = async () => {
      await healthy.raw.received(1 + 1 + total + 5); // welcome, ack, the hub's messages, the burst that passed
      return healthy.frames.filter((f) => f.type === 'message');
    };
    const messages = await fromHub();
    expect(messages.filter((m) => 'seq' in (m.data as object)).map((m) => (m.data as { seq: number }).seq)).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
    // Exactly the burst got through; every dropped message stayed dropped.
    expect(
      messages.filter((m) => 'flood' in (m.data as object)).map((m) => (m.data as { flood: number }).flood),
    ).toEqual([0, 1, 2, 3, 4]);
    await whenCount(harness.hub, (n) => n === 1);
  });

  it('JSON: the byte bucket limits large messages even when the message rate would allow them', async () => {
    harness = await startHub({
      protocol: 'json',
      maxPayload: 1024,
      rateLimit: { bytesPerSec: 1, bytesBurst: 1024, maxViolations: 1 },
    });
    const { client } = await connectJson(harness.url);
    const big = { type: 'publish', topic: 't', data: 'x'.repeat(600) };
    expect(await client.call(big)).toMatchObject({ type: 'ack' });
    client.send(big);
    expect(await client.next('error')).toMatchObject({ code: 'rate_limited' });
    client.send(big);
    expect(await client.raw.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
  });

  it('relay: excess messages are dropped and counted, with no frame back; persisting closes with 1008', async () => {
    harness = await startHub({ protocol: 'relay', rateLimit, closeTimeoutMs: 100 });
    const healthy = await connect(harness.url);
    const flooder = await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 2);
    for (let i = 0; i < 40; i++) flooder.send(`flood ${i}`);
    expect(await flooder.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    expect(flooder.messages).toHaveLength(0);
    harness.hub.broadcast('after');
    await healthy.received(6);
    expect(healthy.texts).toEqual(['flood 0', 'flood 1', 'flood 2', 'flood 3', 'flood 4', 'after']);
    expect(harness.hub.stats.rateLimited).toBe(4);
  });

  it('refuses limits that could never pass a message', () => {
    expect(() => createHub({ maxPayload: 2048, rateLimit: { bytesPerSec: 100, bytesBurst: 1024 } })).toThrow(
      /bytesBurst \(1024\) must be at least maxPayload \(2048\)/,
    );
    expect(() => createHub({ rateLimit: { messagesPerSec: 0 } })).toThrow(
      /messagesPerSec must be a positive number or Infinity/,
    );
    expect(() => createHub({ maxConnectionsPerIp: 0 })).toThrow(/maxConnectionsPerIp/);
    expect(() => createHub({ trustProxy: -1 })).toThrow(/trustProxy/);
  });
});
