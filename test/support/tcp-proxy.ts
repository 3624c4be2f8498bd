import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, so a test can drop a client's connection
 * the way a server restart or a network cut would (NATS has no CLIENT KILL without a system
 * account). Each node gets its own proxy; `cut()` destroys every connection it carries,
 * `reset()` does it with a TCP RST, `freeze()` makes them half-open (open, silent both ways),
 * `retarget()` sends new connections to another server (a load balancer re-pointing a client),
 * `block(ms)` cuts and refuses new connections for a while (a network outage).
 */
export async function tcpProxy(targetHost: string, targetPort: number) {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const frozen = new Set<[net.Socket, net.Socket]>();
  let target = { host: targetHost, port: targetPort };
  let refusing = false;
  const server = net.createServer((client) => {
    // During a block the network is gone: a reconnect attempt fails at once, as a refused one would.
    if (refusing) return void client.destroy();
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A side that closes cleanly is ended on the other side after what it sent is flushed (pipe
    // ends it): a server's close frame reaches the client. Errors tear both down at once.
    const closed = () => {
      if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      else if (client.destroyed) upstream.end();
      else if (upstream.destroyed) client.end();
    };
    client.on('error', end).on('close', closed);
    upstream.on('error', end).on('close', closed);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const each = (f: (a: net.Socket, b: net.Socket) => void): void => {
    for (const [a, b] of [...pairs]) f(a, b);
  };
  return {
    port: (server.address() as AddressInfo).port,
    /** How many connections it carries now. */
    get connections(): number {
      return pairs.size;
    },
    cut(): void {
      each((a, b) => {
        a.destroy();
        b.destroy();
      });
      pairs.clear();
    },
    /** Like cut(), with a TCP RST on both sides instead of a FIN. */
    reset(): void {
      each((a, b) => {
        a.resetAndDestroy();
        b.resetAndDestroy();
      });
      pairs.clear();
    },
    /**
     * The connections it carries now stop carrying bytes both ways, and stay open: a half-open
     * path (a NAT that forgot them, a peer whose machine froze). New connections are not frozen.
     */
    freeze(): void {
      each((a, b) => {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      });
      for (const pair of pairs) frozen.add(pair);
      pairs.clear(); // no longer carried; close() ends them
    },
    /** New connections go to this server from now on. */
    retarget(port: number, host = targetHost): void {
      target = { host, port };
    },
    /**
     * A network cut of `ms`: every connection is dropped and new ones are refused until it ends
     * (the broker clients retry on their backoff meanwhile). Resolves when the cut is over; with
     * no `ms` it lasts until `unblock()`.
     */
    block(ms?: number): Promise<void> {
      refusing = true;
      this.cut();
      if (ms === undefined) return Promise.resolve();
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          refusing = false;
          resolve();
        }, ms),
      );
    },
    unblock(): void {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of [...pairs, ...frozen]) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
