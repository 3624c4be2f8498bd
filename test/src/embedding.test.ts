import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createHub, type Hub } from '../../src/hub.js';
import { connect, silentLogger, upgradeStatus, whenCount } from '../support/ws-client.js';

/**
 * The hub embedded in three kinds of server, over real loopback sockets. Each test sets the
 * server up in a few lines and hands the rest to `checkRelay`, which is the same for all three.
 */

const newHub = (): Hub => createHub({ protocol: 'relay', logger: silentLogger });

/**
 * Runs even when an assertion fails, so a failing test leaves no sockets behind. The hub goes
 * first: a server does not finish closing while upgraded sockets are still open.
 */
const cleanUp = (hub: Hub, closeServer: () => Promise<unknown>): void =>
  onTestFinished(async () => {
    await hub.close({ timeoutMs: 200 });
    await closeServer();
  });

const portOf = (server: http.Server): number => (server.address() as AddressInfo).port;

/**
 * Two real clients on /ws: A's text reaches B exactly, A gets nothing of its own (B's reply is
 * the only thing A receives, and it would arrive after any echo of A's message); another path
 * gets 404; hub.close() sends both clients 1001.
 */
async function checkRelay(hub: Hub, port: number): Promise<void> {
  const url = `ws://127.0.0.1:${port}/ws`;
  const a = await connect(url);
  const b = await connect(url);
  await whenCount(hub, (n) => n === 2);
  expect(hub.size).toBe(2);

  a.send('hello from A');
  await b.received(1);
  b.send('hello from B');
  await a.received(1);
  expect(b.texts).toEqual(['hello from A']);
  expect(a.texts).toEqual(['hello from B']);
  expect([...a.messages, ...b.messages].map((m) => m.binary)).toEqual([false, false]);

  expect(await upgradeStatus(`ws://127.0.0.1:${port}/other`)).toBe(404);
  expect(hub.size).toBe(2);

  await hub.close();
  const [closedA, closedB] = await Promise.all([a.closed, b.closed]);
  expect(closedA.code).toBe(1001);
  expect(closedB.code).toBe(1001);
  expect(hub.size).toBe(0);
}

describe('embedding the hub', () => {
  it('in a plain node:http server, with hub.attach(server)', async () => {
    const hub = newHub();
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    hub.attach(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanUp(hub, () => closeServer(server));

    await checkRelay(hub, portOf(server));
  });

  it('in Express 5, with hub.attach(app.listen(...)); app routes keep answering', async () => {
    const hub = newHub();
    const app = express();
    app.get('/hello', (_req, res) => {
      res.send('hello from express');
    });
    const server = app.listen(0, '127.0.0.1');
    hub.attach(server);
    await once(server, 'listening');
    cleanUp(hub, () => closeServer(server));
    const port = portOf(server);

    const res = await fetch(`http://127.0.0.1:${port}/hello`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from express');

    await checkRelay(hub, port);
  });

  it('in Fastify 5, handing upgrades over through hub.handleUpgrade; routes keep answering', async () => {
    const hub = newHub();
    const app = Fastify();
    app.get('/hello', async () => ({ hello: 'fastify' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanUp(hub, () => app.close());
    app.server.on('upgrade', (req, socket, head) => void hub.handleUpgrade(req, socket, head));
    const port = portOf(app.server);

    const res = await fetch(`http://127.0.0.1:${port}/hello`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'fastify' });

    await checkRelay(hub, port);
  });
});

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
