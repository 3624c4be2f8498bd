import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub, type Hub } from '../../src/hub.js';
import { hubRoutes, type RoutesOptions } from '../../src/server/http-routes.js';
import type { HubOptions } from '../../src/types.js';
import { parsePromText, type PromText } from './prom-text.js';
import { silentLogger } from './ws-client.js';

export interface RoutedHub {
  readonly hub: Hub;
  readonly base: string;
  readonly ws: string;
  scrape(): Promise<PromText>;
  stop(): Promise<void>;
}

/** A hub on a real http.Server (127.0.0.1, port 0) serving the standalone routes: /metrics, /stats, /api/*. */
export async function startRoutedHub(options: HubOptions = {}, routes: RoutesOptions = {}): Promise<RoutedHub> {
  const hub = createHub({ logger: silentLogger, ...options });
  const server = http.createServer(hubRoutes(hub, routes));
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    hub,
    base,
    ws: `ws://127.0.0.1:${port}${hub.options.path}`,
    async scrape() {
      const res = await fetch(`${base}/metrics`);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return parsePromText(await res.text());
    },
    async stop() {
      await hub.close({ timeoutMs: 200 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
