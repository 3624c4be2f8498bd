import { Cause, Effect, Exit } from 'effect';
import { describe, expect, it } from 'vitest';
import { HubServerError } from '../../../src/errors.js';
import { HubServer } from '../../../src/server/hub-server.js';
import { layer, make } from '../../../src/server/hub-server-live.js';
import { readServerConfig } from '../../../src/server/config.js';
import { connect, silentLogger, whenCount } from '../../support/ws-client.js';

const config = Effect.runSync(readServerConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }));

describe('HubServer as an Effect service', () => {
  it('an Effect program gets the hub from the layer; closing the scope closes every client with 1001', async () => {
    const program = Effect.gen(function* () {
      const { hub, url, port } = yield* HubServer;
      expect(url).toBe(`http://127.0.0.1:${port}`);
      const client = yield* Effect.promise(() => connect(`ws://127.0.0.1:${port}/ws`));
      yield* Effect.promise(() => whenCount(hub, (n) => n === 1));
      const stats = yield* Effect.promise(() =>
        fetch(`${url}/stats`).then((r) => r.json() as Promise<{ clients: number }>),
      );
      expect(stats.clients).toBe(1);
      return { client, hub };
    });
    const { client, hub } = await Effect.runPromise(Effect.provide(program, layer(config, { logger: silentLogger })));
    // The layer's scope ended with the program: graceful close ran.
    expect(await client.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(hub.actor.getSnapshot().status).toBe('done');
    expect(hub.size).toBe(0);
  });

  it('fails with a HubServerError, not a crash, when the port is taken', async () => {
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const { port } = yield* HubServer; // a first server holds this port
        return yield* make({ ...config, port }, { logger: silentLogger });
      }).pipe(Effect.scoped, Effect.provide(layer(config, { logger: silentLogger }))),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined;
    expect(error).toBeInstanceOf(HubServerError);
    expect((error as HubServerError).message).toMatch(/^Cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });
});
