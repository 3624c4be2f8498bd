import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Effect, Layer } from 'effect';
import type { ServerConfig } from './config.js';
import { HubServerError } from './errors.js';
import { hubRoutes } from './http-routes.js';
import { createHub, type Hub } from './hub.js';
import { HubServer, type HubServerShape } from './hub-server.js';
import { consoleLogger } from './logger.js';
import type { HubOptions } from './options.js';

const displayHost = (address: AddressInfo): string =>
  address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;

/**
 * Acquires a hub listening on its own HTTP server; releasing it closes the hub gracefully
 * (1001 to every client, terminate after the shutdown timeout) and then the server.
 * `extra` adds what a config file cannot hold: hooks, a logger, an inspector.
 */
export const make = (config: ServerConfig, extra: HubOptions = {}) =>
  Effect.acquireRelease(
    Effect.callback<HubServerShape, HubServerError>((resume) => {
      const hub = createHub({ logger: consoleLogger(config.logLevel), ...config.hub, ...extra });
      const server = createServer(hubRoutes(hub));
      hub.attach(server);
      server.once('error', (cause) => {
        void hub.close({ timeoutMs: 1 });
        resume(
          Effect.fail(
            new HubServerError({
              reason: 'listen-failed',
              message: `Cannot listen on ${config.host}:${config.port}: ${(cause as Error).message}`,
              cause,
            }),
          ),
        );
      });
      server.listen(config.port, config.host, () => {
        const address = server.address() as AddressInfo;
        resume(Effect.succeed({ hub, server, port: address.port, url: `http://${displayHost(address)}:${address.port}` }));
      });
    }),
    ({ hub, server }) =>
      Effect.promise(async () => {
        await hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }),
  );

/** The hub as an Effect service: `Layer.launch(layer(config))` or provide it to your program. */
export const layer = (config: ServerConfig, extra?: HubOptions) => Layer.effect(HubServer, make(config, extra));
