import net from 'node:net';
import { Effect } from 'effect';
import { afterEach, describe, expect, it } from 'vitest';
import { readServerConfig } from '../../../src/server/config.js';
import { make } from '../../../src/server/hub-server-live.js';
import type { Hub } from '../../../src/hub.js';
import { eventually } from '../../support/eventually.js';
import { connect, silentLogger, startHub, upgradeStatus, whenCount, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
const openFrom = (hub: Hub) => [...hub.connectionsByIp().values()].reduce((a, b) => a + b, 0);
const noneOpen = (hub: Hub) => eventually(() => hub.connectionsByIp().size === 0, 3_000, 'per-IP count back to 0');

/** A promise and the function that resolves it. */
const gate = () => {
  let open: (v: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((resolve) => (open = resolve));
  return { promise, open };
};

describe('per-IP connection cap', () => {
  it('answers 429 before upgrading once an address has maxConnectionsPerIp open; a slot frees on close', async () => {
    harness = await startHub({ maxConnectionsPerIp: 2 });
    const a = await connect(harness.url);
    await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 2);
    expect(await upgradeStatus(harness.url)).toBe(429);
    expect(harness.hub.size).toBe(2);
    expect(harness.hub.stats.connectionsTotal).toBe(2);
    expect(harness.hub.connectionsByIp()).toEqual(new Map([['127.0.0.1', 2]]));
    a.ws.close();
    await eventually(() => openFrom(harness!.hub) === 1);
    expect(await upgradeStatus(harness.url)).toBe(101);
  });

  it('ignores X-Forwarded-For by default: anyone can write it', async () => {
    harness = await startHub({ maxConnectionsPerIp: 1 });
    await connect(harness.url, from('10.0.0.1'));
    expect(await upgradeStatus(harness.url, from('10.0.0.2'))).toBe(429);
  });

  it('with trustProxy 1, counts the address the proxy saw (the rightmost X-Forwarded-For entry)', async () => {
    harness = await startHub({ maxConnectionsPerIp: 1, trustProxy: 1 });
    await connect(harness.url, from('10.0.0.1'));
    // The client forged the left entry; the proxy appended the real one.
    await connect(harness.url, from('6.6.6.6, 10.0.0.2'));
    expect(await upgradeStatus(harness.url, from('7.7.7.7, 10.0.0.1'))).toBe(429);
    expect(harness.hub.connectionsByIp()).toEqual(
      new Map([
        ['10.0.0.1', 1],
        ['10.0.0.2', 1],
      ]),
    );
  });

  it('the count returns to 0 on every close path', async () => {
    const hang = gate();
    let resetSeen = false;
    harness = await startHub({
      maxConnectionsPerIp: 50,
      handshakeTimeoutMs: 150,
      authTimeoutMs: 60_000,
      authenticate: (req) => {
        const how = new URL(req.url ?? '/', 'http://h').searchParams.get('how');
        if (how === 'deny') return false;
        if (how === 'throw') throw new Error('auth bug');
        if (how === 'reset') resetSeen = true;
        if (how === 'hang' || how === 'reset') return hang.promise;
        return { id: how ?? undefined };
      },
    });
    const url = harness.url;
    // Refused by authenticate (401) or by a throwing hook (500).
    expect(await upgradeStatus(`${url}?how=deny`)).toBe(401);
    expect(await upgradeStatus(`${url}?how=throw`)).toBe(500);
    // Timed out while authenticate() hangs (408).
    expect(await upgradeStatus(`${url}?how=hang`)).toBe(408);
    // The peer resets while authenticate() hangs.
    const reset = net.connect(harness.port, '127.0.0.1');
    reset.write(
      `GET /ws?how=reset HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await eventually(() => resetSeen);
    expect(openFrom(harness.hub)).toBeGreaterThanOrEqual(1);
    reset.resetAndDestroy();
    // Registered, then closed by the client, by the hub (disconnect), by close().
    const byClient = await connect(`${url}?how=c1`);
    const byHub = await connect(`${url}?how=c2`);
    const byShutdown = await connect(`${url}?how=c3`);
    await whenCount(harness.hub, (n) => n === 3);
    byClient.ws.close();
    harness.hub.disconnect('c2', 4000, 'bye');
    expect((await byHub.closed).code).toBe(4000);
    await whenCount(harness.hub, (n) => n === 1);
    await harness.hub.close({ timeoutMs: 100 });
    expect((await byShutdown.closed).code).toBe(1001);
    hang.open(true); // the hung authenticate() calls answer late: nothing may be counted again
    await noneOpen(harness.hub);
    expect(harness.hub.size).toBe(0);
  });

  it('an upgrade admitted by an async authenticate() is counted once, and released once when it closes', async () => {
    harness = await startHub({ maxConnectionsPerIp: 2, authenticate: async () => true });
    const a = await connect(harness.url);
    const b = await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 2);
    expect(harness.hub.connectionsByIp()).toEqual(new Map([['127.0.0.1', 2]]));
    expect(await upgradeStatus(harness.url)).toBe(429);
    a.ws.close();
    await whenCount(harness.hub, (n) => n === 1);
    await eventually(() => openFrom(harness!.hub) === 1);
    b.ws.terminate();
    await noneOpen(harness.hub);
  });

  it('a handshake ws itself refuses (bad key) frees its slot', async () => {
    harness = await startHub({ maxConnectionsPerIp: 1 });
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(harness!.port, '127.0.0.1', () =>
        socket.write(
          `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bad\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(got));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await noneOpen(harness.hub);
    expect(await upgradeStatus(harness.url)).toBe(101);
  });

  it('without a cap nothing is counted (no address lookup per upgrade)', async () => {
    harness = await startHub();
    await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.connectionsByIp().size).toBe(0);
  });

  it('a client that gets 429 never reaches the hub', async () => {
    harness = await startHub({ maxConnectionsPerIp: 1 });
    await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 1);
    for (let i = 0; i < 5; i++) expect(await upgradeStatus(harness.url)).toBe(429);
    expect(harness.hub.stats.connectionsTotal).toBe(1);
    expect(harness.hub.stats.rejectedUpgrades).toBe(5);
  });
});

describe('handshake timeout and pending upgrades', () => {
  it('an upgrade whose gate outlasts handshakeTimeoutMs gets 408 and frees its slot', async () => {
    const first = gate();
    let calls = 0;
    harness = await startHub({
      maxClients: 1,
      handshakeTimeoutMs: 100,
      authTimeoutMs: 60_000,
      authenticate: () => (++calls === 1 ? first.promise : true),
    });
    expect(await upgradeStatus(harness.url)).toBe(408);
    expect(harness.hub.stats.handshakeTimeouts).toBe(1);
    // The timed-out upgrade no longer holds the only slot, even though its hook never answered.
    expect(await upgradeStatus(harness.url)).toBe(101);
    first.open(true);
    await noneOpen(harness.hub);
    expect(harness.hub.stats.connectionsTotal).toBe(1);
  });

  it('upgrades waiting on authenticate() count against maxClients', async () => {
    const first = gate();
    let calls = 0;
    harness = await startHub({ maxClients: 1, authenticate: () => (++calls === 1 ? first.promise : true) });
    const pending = upgradeStatus(harness.url);
    await eventually(() => calls === 1);
    expect(await upgradeStatus(harness.url)).toBe(503);
    first.open(true);
    expect(await pending).toBe(101);
  });
});

describe('slowloris against the standalone server', () => {
  const config = Effect.runSync(
    readServerConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ACTORHUB_HEADERS_TIMEOUT_MS: '200' }),
  );
  const withServer = (body: (port: number, hub: Hub) => Promise<void>) =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { port, hub } = yield* make(config, { logger: silentLogger });
          yield* Effect.promise(() => body(port, hub));
        }),
      ),
    );

  /** Opens a TCP connection and resolves with everything the server sent once it closes. */
  const rawConnection = (port: number, start: (socket: net.Socket) => void) =>
    new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => start(socket));
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(answer));
    });

  it('headers trickled byte by byte: 408 and the socket is closed; the hub never sees it', async () => {
    await withServer(async (port, hub) => {
      let trickle: NodeJS.Timeout | undefined;
      const answer = await rawConnection(port, (socket) => {
        socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
        let i = 0;
        trickle = setInterval(() => socket.write(i++ % 2 === 0 ? 'X' : '-'), 20);
      });
      clearInterval(trickle);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(hub.stats.connectionsTotal).toBe(0);
    });
  });

  it('a connection that never sends a byte is closed', async () => {
    await withServer(async (port, hub) => {
      const answer = await rawConnection(port, () => undefined);
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
      expect(hub.stats.connectionsTotal).toBe(0);
    });
  });
});

describe('server timeouts never cut an established WebSocket', () => {
  it('a socket open longer than headersTimeout and requestTimeout stays open (the timeouts end at the upgrade)', async () => {
    const { createServer } = await import('node:http');
    const { createHub } = await import('../../../src/hub.js');
    const hub = createHub({ logger: silentLogger });
    const server = createServer({ headersTimeout: 100, requestTimeout: 150, connectionsCheckingInterval: 20 });
    hub.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const c = await connect(`ws://127.0.0.1:${port}/ws`);
      await whenCount(hub, (n) => n === 1);
      // Several checking intervals past both timeouts, then a round trip proves the socket lives.
      await new Promise((resolve) => setTimeout(resolve, 400));
      hub.broadcast({ still: 'here' });
      await c.received(2); // welcome, then the broadcast
      expect(c.ws.readyState).toBe(c.ws.OPEN);
    } finally {
      await hub.close({ timeoutMs: 100 });
      server.closeAllConnections();
      server.close();
    }
  });
});
