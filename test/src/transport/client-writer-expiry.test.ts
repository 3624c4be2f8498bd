import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../../machines/connection.js';
import { ClientWriter } from '../../../src/transport/client-writer.js';
import { MAX_TIMER_DELAY_MS } from '../../../src/limits.js';
import { createStats } from '../../../src/observability/stats.js';

/**
 * The token-expiry timer the writer owns (docs/security.md#jwt), with the clock faked: one timer
 * per client with a token, closing with 4001 at the expiry, moved by writer.expireAt, waited for in
 * bounded steps, and gone once the socket is (however it ends). Over real sockets: jwt.test.ts.
 */

function writer(expiresAt: number | undefined) {
  const log: string[] = [];
  const conn: Connection = {
    remoteAddress: '127.0.0.1',
    bufferedAmount: 0,
    isOpen: true,
    writable: true,
    listen: () => () => undefined,
    write: () => void log.push('frame'),
    ping: () => void log.push('ping'),
    pong: () => void log.push('pong'),
    close: (code, reason) => void log.push(`close:${code}:${reason}`),
    terminate: () => void log.push('terminate'),
  };
  const events: string[] = [];
  const w = new ClientWriter(
    {
      id: 'c',
      connection: conn,
      limits: { maxMessages: 4, maxBytes: 1024, policy: 'close' },
      pongWaitMs: 60_000,
      expiresAt,
    },
    { stats: createStats() },
  );
  w.start({ send: (e) => void events.push(e.type) });
  return { w, log, events };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ClientWriter: the token-expiry timer', () => {
  it('closes with 4001 at the expiry and tells its client; no timer without a token', () => {
    const { log, events } = writer(Date.now() + 5_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(4_999);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['close:4001:token expired']);
    expect(events).toEqual(['client.tokenExpired']);
    expect(vi.getTimerCount()).toBe(0);
    writer(undefined);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writer.expireAt moves it (one timer still); undefined removes it', () => {
    const { w, log } = writer(Date.now() + 5_000);
    w.send({ type: 'writer.expireAt', at: Date.now() + 60_000 });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(59_999);
    expect(log).toEqual([]);
    w.send({ type: 'writer.expireAt', at: undefined });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is cleared when the socket closes first, when the server closes it, and when the client dies', () => {
    const peer = writer(Date.now() + 5_000);
    peer.w.closed(1000, '');
    const server = writer(Date.now() + 5_000);
    server.w.send({ type: 'writer.close', code: 1000, reason: '' });
    const died = writer(Date.now() + 5_000);
    died.w.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    for (const { log } of [peer, server, died]) expect(log).not.toContain('close:4001:token expired');
  });

  it('waits for a far expiry in steps of at most MAX_TIMER_DELAY_MS', () => {
    const far = Date.now() + 2 * MAX_TIMER_DELAY_MS + 10;
    const { log } = writer(far);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(vi.getTimerCount()).toBe(1); // re-armed, not fired
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(log).toEqual(['close:4001:token expired']);
  });
});
