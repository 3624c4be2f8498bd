import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/admission/client-address.js';
import { ConnectionCount } from '../../../src/admission/connection-count.js';

const req = (peer: string | undefined, xff?: string | string[]) =>
  ({
    socket: { remoteAddress: peer },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('is the TCP peer, with X-Forwarded-For ignored, unless proxies are trusted', () => {
    expect(clientAddress(req('10.0.0.9', '1.2.3.4'), 0)).toBe('10.0.0.9');
    expect(clientAddress(req('::ffff:10.0.0.9'), 0)).toBe('10.0.0.9');
    expect(clientAddress(req('::1'), 0)).toBe('::1');
    expect(clientAddress(req(undefined), 0)).toBe('unknown');
  });

  it('walks X-Forwarded-For from the right, one entry per trusted proxy', () => {
    const r = req('10.0.0.1', 'forged, 203.0.113.7, 10.0.0.2');
    expect(clientAddress(r, 1)).toBe('10.0.0.2');
    expect(clientAddress(r, 2)).toBe('203.0.113.7');
    expect(clientAddress(r, 3)).toBe('forged');
    expect(clientAddress(r, 9)).toBe('forged'); // fewer entries than hops: the leftmost
    expect(clientAddress(req('10.0.0.1'), 1)).toBe('10.0.0.1'); // no header: the peer
    expect(clientAddress(req('10.0.0.1', ['a', 'b']), 1)).toBe('b'); // repeated headers join in order
  });
});

describe('ConnectionCount', () => {
  it('caps per key and forgets keys at zero', () => {
    const c = new ConnectionCount();
    expect([c.tryAcquire('a', 2), c.tryAcquire('a', 2), c.tryAcquire('a', 2), c.tryAcquire('b', 2)]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    c.release('a');
    expect(c.get('a')).toBe(1);
    c.release('a');
    c.release('b');
    expect(c.snapshot().size).toBe(0);
    expect(c.tryAcquire('a', Number.POSITIVE_INFINITY)).toBe(true);
  });
});
