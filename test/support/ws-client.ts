import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import { createHub, type Hub } from '../../src/hub.js';
import type { HubOptions } from '../../src/types.js';

/** A real ws client that records what it receives and lets a test await a count or a close. */
export class TestClient {
  readonly messages: { data: Buffer; binary: boolean }[] = [];
  closed: Promise<{ code: number; reason: string }>;
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary) => {
      this.messages.push({ data, binary });
      this.#waiters = this.#waiters.filter((w) => (this.messages.length >= w.n ? (w.resolve(), false) : true));
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  get texts(): string[] {
    return this.messages.map((m) => m.data.toString());
  }

  /** Resolves once at least n messages have arrived. */
  received(n: number): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }
}

export function connect(url: string, options?: ClientOptions): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

/** The HTTP answer to an upgrade that was refused (status code), or 101 if it was accepted. */
export function upgradeStatus(url: string, options?: ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => reject(err));
  });
}

export interface Harness {
  hub: Hub;
  server: http.Server;
  port: number;
  url: string;
  /** Closes the hub (if not already) and the server. */
  stop(): Promise<void>;
}

/** A hub attached to a plain http.Server on 127.0.0.1, port 0. */
export async function startHub(options: HubOptions = {}): Promise<Harness> {
  const hub = createHub({ logger: silentLogger, ...options });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    hub,
    server,
    port,
    url: `ws://127.0.0.1:${port}${hub.options.path}`,
    async stop() {
      await hub.close({ timeoutMs: 200 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when the hub's registered-client count satisfies the predicate (an event, not a sleep). */
export function whenCount(hub: Hub, predicate: (n: number) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (predicate(hub.size)) return resolve();
    const sub = hub.actor.subscribe((snapshot) => {
      if (predicate(snapshot.context.count)) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
}

export const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };
