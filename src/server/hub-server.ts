import type { Server } from 'node:http';
import { Context } from 'effect';
import type { Hub } from '../types.js';

/** A running hub on its own HTTP server: what the standalone server is, and what an Effect app embeds. */
export interface HubServerShape {
  readonly hub: Hub;
  readonly server: Server;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** http://host:port (https:// with TLS) — the WebSocket endpoint is the same with ws: (wss:) and the hub's path. */
  readonly url: string;
  /**
   * With TLS: re-reads the certificate and key files and uses them for new handshakes (the CLI
   * calls it on SIGHUP). False, with the error logged, when a file is bad: the old ones stay.
   */
  readonly reloadTls?: () => boolean;
  /** The Stately inspector's page, when its relay runs (--inspect --inspect-stately). */
  readonly inspectorUrl?: string;
  /** The hub's own live viewer, on its port (--inspect). */
  readonly viewerUrl?: string;
}

export class HubServer extends Context.Service<HubServer, HubServerShape>()('actorhub/HubServer') {}
