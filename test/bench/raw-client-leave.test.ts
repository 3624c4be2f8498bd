import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RawClient, Tally } from '../../bench/load/raw-client.js';
import type { Departure } from '../../bench/types.js';

/** The churn scenario's three departures, as a real `ws` server sees them. */
describe('bench RawClient.leave', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    wss = undefined;
  });

  const departure = async (kind: Departure): Promise<{ code: number; clean: boolean }> => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
    const closed = new Promise<number>((resolve) =>
      wss!.once('connection', (ws) => ws.once('close', (code) => resolve(code))),
    );
    wss.on('connection', (ws) => ws.on('error', () => undefined)); // a reset is an error on the server side too
    const client = new RawClient('ws', new Tally());
    await client.connect('127.0.0.1', (wss.address() as AddressInfo).port, '/', 5_000);
    const clean = await client.leave(kind, 5_000);
    return { code: await closed, clean };
  };

  it('close: sends a close frame with 1000 and waits for the server to close', async () => {
    expect(await departure('close')).toEqual({ code: 1000, clean: true });
  });

  it('fin: ends the TCP stream without a close frame (the server sees 1006)', async () => {
    expect(await departure('fin')).toEqual({ code: 1006, clean: true });
  });

  it('rst: resets the connection (the server sees 1006)', async () => {
    expect(await departure('rst')).toEqual({ code: 1006, clean: true });
  });
});
