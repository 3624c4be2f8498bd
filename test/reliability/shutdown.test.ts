import { expect, it } from 'vitest';
import { connectAll } from '../../bench/load/raw-client.js';
import { connect, startHub, whenCount, type TestClient } from '../support/ws-client.js';

/**
 * docs/reliability.md item 9 at 1,000 clients (bench/shutdown.ts does 10,000 against the CLI and
 * SIGTERM): close() while every client is connected and messages flow both ways → every
 * client gets 1001 (none has to be terminated), close() resolves, the hub actor is done, and
 * no socket or timer of the hub is left behind.
 */
const CLIENTS = 1_000;

const handles = (): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
};

it(`close() with ${CLIENTS} connected clients and messages flowing: 1001 for all, nothing left open`, async () => {
  const before = handles();
  const harness = await startHub({ protocol: 'relay', shutdownTimeoutMs: 10_000 });
  const { hub } = harness;
  const clients = await connectAll(CLIENTS, 50, () => connect(harness.url));
  await whenCount(hub, (n) => n === CLIENTS);
  const codes = Promise.all(clients.map((c: TestClient) => c.closed.then((x) => x.code)));

  // Messages flow: the hub broadcasts and one client relays, until the hub stops accepting.
  let flowing = true;
  let broadcasts = 0;
  const pump = (): void => {
    if (!flowing || hub.closing) return;
    hub.broadcast(`b${broadcasts++}`);
    clients[0]!.ws.send(`c${broadcasts}`);
    setImmediate(pump);
  };
  pump();
  await clients[CLIENTS - 1]!.received(5); // the last client to register is receiving

  await hub.close();
  flowing = false;
  expect(hub.size).toBe(0);
  expect(hub.actor.getSnapshot().status).toBe('done');
  const got = await codes;
  expect(got.filter((c) => c !== 1001)).toEqual([]);
  expect(hub.stats.heartbeatTimeouts).toBe(0);

  await harness.stop();
  // Closed handles leave the list in a later turn of the event loop: allow a few turns, no more.
  const leftover = (): string[] => {
    const now = handles();
    return ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']
      .filter((k) => (now[k] ?? 0) > (before[k] ?? 0))
      .map((k) => `${k} ${now[k]}`);
  };
  for (let turn = 0; turn < 20 && leftover().length > 0; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
  expect(leftover()).toEqual([]);
}, 120_000);
