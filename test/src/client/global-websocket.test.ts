import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type HubClient } from '../../../src/client/index.js';
import { startHub, type Harness } from '../../support/ws-client.js';
import { subscribed } from '../../support/client-states.js';

/**
 * `createClient(url)` with no `WebSocket` option takes the global one. Node 22+ has it (undici's);
 * Node 20 has none, and the SDK must say so and name the fix. `npm test` runs on Node 20 and, in
 * CI, on Node 24: each run checks the branch of the Node it runs on (no skip). Real hub, real
 * sockets on port 0.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const nodeMajor = Number(process.versions.node.split('.')[0]);

describe(`createClient without a WebSocket option on Node ${process.versions.node}`, () => {
  it(
    nodeMajor >= 22
      ? 'Node 22+: uses the global WebSocket to connect, subscribe and publish'
      : 'Node 20: throws a TypeError that says to pass { WebSocket } from ws',
    async () => {
      const h: Harness = await startHub();
      cleanups.push(() => h.stop());
      if (nodeMajor >= 22) {
        expect(typeof globalThis.WebSocket).toBe('function');
        const a: HubClient = createClient(h.url);
        cleanups.push(() => a.close());
        const got: unknown[] = [];
        const sub = a.subscribe('global', (data) => got.push(data));
        await subscribed(sub);
        expect(a.state).toBe('connected');
        expect(a.id).toEqual(expect.any(String));
        await expect(a.publish('global', 'hi', { echo: true })).resolves.toMatchObject({ delivered: 1 });
        await expect.poll(() => got).toEqual(['hi']);
        // The hub saw a real connection from it.
        expect(h.hub.size).toBe(1);
      } else {
        expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
        expect(() => createClient(h.url)).toThrow(TypeError);
        expect(() => createClient(h.url)).toThrow(
          "createClient: no global WebSocket (Node 20): pass { WebSocket } from the 'ws' package",
        );
        // Nothing was opened: the hub never saw a connection.
        expect(h.hub.size).toBe(0);
      }
    },
  );
});
