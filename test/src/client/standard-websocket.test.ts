import { WebSocket as StandardWebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client/index.js';
import { CLIENT_CONNECT_FAILURES_REPORTED } from '../../../src/limits.js';
import { startHub, type Harness } from '../../support/ws-client.js';
import { reach, subscribed } from '../../support/client-states.js';

/**
 * The SDK with a WHATWG WebSocket (undici's: the implementation behind Node 22's global
 * `WebSocket`, and the browser's interface): no `terminate()`, events as objects, a refused
 * handshake seen as 1006. Real hub, real sockets.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('client SDK on the standard WebSocket (Node 22 global / browsers)', () => {
  it('connects, subscribes, publishes, and reconnects after the hub drops it', async () => {
    const h: Harness = await startHub({ history: { size: 100 } });
    cleanups.push(() => h.stop());
    const options = { WebSocket: StandardWebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 200 } };
    const a = createClient(h.url, options);
    const b = createClient(h.url, options);
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const got: unknown[] = [];
    const sub = b.subscribe('std', (d, info) => got.push([d, info.offset]));
    await reach(a, 'connected');
    await subscribed(sub);
    await a.publish('std', 'one');
    await expect.poll(() => got).toEqual([['one', 1]]);
    const recovered = new Promise<void>((resolve) => sub.on('recovered', () => resolve()));
    h.hub.disconnect(b.id!, 4000, 'drop');
    await a.publish('std', 'two'); // while b is away
    await recovered;
    await expect
      .poll(() => got)
      .toEqual([
        ['one', 1],
        ['two', 2],
      ]);
  });

  it('a terminal close code stops it, with the code and reason in the state event', async () => {
    const h: Harness = await startHub();
    cleanups.push(() => h.stop());
    const a = createClient(h.url, { WebSocket: StandardWebSocket });
    cleanups.push(() => a.close());
    await reach(a, 'connected');
    const why = new Promise((resolve) => a.on('state', (s, d) => s === 'closed' && resolve(d)));
    h.hub.disconnect(a.id!, 1008, 'policy');
    await expect(why).resolves.toMatchObject({ code: 1008, reason: 'policy', terminal: true });
  });

  it('a refused token looks like 1006 here, as in a browser: retried with a fresh token(), connect_failed after a run of failures', async () => {
    const h: Harness = await startHub({ auth: { tokens: ['good'] } });
    cleanups.push(() => h.stop());
    let token = 'bad';
    let calls = 0;
    const a = createClient(h.url, {
      WebSocket: StandardWebSocket,
      reconnect: { minDelayMs: 10, maxDelayMs: 40 },
      token: () => (calls++, token),
    });
    cleanups.push(() => a.close());
    const states: unknown[] = [];
    a.on('state', (s, d) => states.push([s, d.code, d.terminal]));
    const failed = new Promise<string>((resolve) =>
      a.on('error', (e) => e.code === 'connect_failed' && resolve(e.message)),
    );
    await expect(failed).resolves.toMatch(new RegExp(`^${CLIENT_CONNECT_FAILURES_REPORTED} attempts in a row failed`));
    expect(calls).toBeGreaterThanOrEqual(CLIENT_CONNECT_FAILURES_REPORTED); // token() before every attempt
    expect(states).toEqual([['reconnecting', 1006, false]]); // never terminal: the status is not visible
    token = 'good'; // the application fixes its token source: the next attempt gets in
    await reach(a, 'connected');
  });
});
