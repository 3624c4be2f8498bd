import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hubRoutes } from '../../src/server/http-routes.js';
import { parseFailpoint } from '../../src/supervision.js';
import { connectJson } from '../support/json-client.js';
import { startHub, upgradeStatus, whenCount, type Harness } from '../support/ws-client.js';

/**
 * Supervision (docs/architecture.md#supervision), tested by injecting failures through the
 * `failpoint` seam: an action that throws is caught and reported; a failure outside any action
 * (a guard) fails the hub actor, and that failure is made visible and safe.
 */
class Logs {
  readonly errors: string[] = [];
  error(obj: { err?: unknown; action?: string }, msg: string): void {
    this.errors.push(`${msg}${obj.action ? ` [${obj.action}]` : ''}`);
  }
  warn(): void {}
  info(): void {}
  debug(): void {}
}

let harness: Harness | undefined;
let routes: http.Server | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  routes?.closeAllConnections();
  await new Promise<void>((resolve) => (routes ? routes.close(() => resolve()) : resolve()));
  routes = undefined;
});

/** The standalone server's HTTP side for this hub, to ask /healthz. */
async function healthOf(h: Harness): Promise<() => Promise<{ status: number; body: unknown }>> {
  routes = http.createServer(hubRoutes(h.hub));
  await new Promise<void>((resolve) => routes!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(routes.address() as AddressInfo).port}/healthz`;
  return async () => {
    const res = await fetch(url);
    return { status: res.status, body: await res.json() };
  };
}

describe('a hub action that throws', () => {
  it('is caught, logged and counted; the command gets an internal error; the hub goes on', async () => {
    const logs = new Logs();
    harness = await startHub({ logger: logs, failpoint: parseFailpoint('presence@1') });
    const health = await healthOf(harness);
    const { client: a, id } = await connectJson(harness.url);
    await a.call({ type: 'subscribe', topic: 'room' });

    expect(await a.call({ type: 'presence', topic: 'room' })).toMatchObject({
      type: 'error',
      code: 'internal',
      message: 'the hub could not process this command',
    });
    expect(harness.hub.stats.hubErrors).toBe(1);
    expect(logs.errors).toEqual(['hub action threw: its event was dropped, the hub goes on [presence]']);

    // The hub actor still runs: the next presence is answered, a new client is welcomed, health is ok.
    expect(await a.call({ type: 'presence', topic: 'room' })).toMatchObject({
      type: 'ack',
      result: { members: [{ id }] },
    });
    const b = await connectJson(harness.url);
    expect(b.id).toEqual(expect.any(String));
    expect(harness.hub.actor.getSnapshot().status).toBe('active');
    expect(harness.hub.failed).toBe(false);
    expect(await health()).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('inside an assign action too (subscribe)', async () => {
    const logs = new Logs();
    harness = await startHub({ logger: logs, failpoint: parseFailpoint('subscribe') });
    const { client: a } = await connectJson(harness.url);
    expect(await a.call({ type: 'subscribe', topic: 'room' })).toMatchObject({ type: 'error', code: 'internal' });
    a.raw.ws.close();
    await whenCount(harness.hub, (n) => n === 0);
    expect(harness.hub.stats.hubErrors).toBe(1);
    expect(harness.hub.actor.getSnapshot().status).toBe('active');
  });
});

describe('a failure of the hub actor itself (a guard throws)', () => {
  it('closes every client with 1011, refuses upgrades (503), /healthz 503, calls onFailure once', async () => {
    const logs = new Logs();
    const failures: unknown[] = [];
    // isFull runs once per registration: the first client registers, the second fails the hub.
    harness = await startHub({
      logger: logs,
      failpoint: parseFailpoint('guard:isFull@2'),
      onFailure: (error) => failures.push(error),
    });
    const health = await healthOf(harness);
    const { client: a } = await connectJson(harness.url);
    const second = await import('../support/ws-client.js').then((m) => m.connect(harness!.url));

    expect(await a.raw.closed).toEqual({ code: 1011, reason: 'internal error' });
    expect(await second.closed).toMatchObject({ code: 1011 });
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toContain('failpoint guard:isFull');
    expect(harness.hub.failed).toBe(true);
    expect(harness.hub.stats.hubFailures).toBe(1);
    expect(await health()).toEqual({ status: 503, body: { status: 'failed' } });
    expect(await upgradeStatus(harness.url)).toBe(503);
    expect(logs.errors).toContain(
      'hub actor failed: closing every client with 1011, refusing upgrades, leaving the cluster',
    );
    // close() after a failure still resolves (nothing left to drain).
    await harness.hub.close({ timeoutMs: 100 });
  });
});

describe('parseFailpoint', () => {
  it('throws at every call of its site, or only at the n-th', () => {
    const every = parseFailpoint('presence');
    expect(() => every('subscribe')).not.toThrow();
    expect(() => every('presence')).toThrow('failpoint presence (call 1)');
    const second = parseFailpoint('guard:isFull@2');
    expect(() => second('guard:isFull')).not.toThrow();
    expect(() => second('guard:isFull')).toThrow('failpoint guard:isFull (call 2)');
    expect(() => second('guard:isFull')).not.toThrow();
    expect(() => parseFailpoint('x@-1')).toThrow();
  });
});
