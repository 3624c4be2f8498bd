import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';

const run = promisify(execFile);

/**
 * Publishes raw payloads on a cluster's channels from outside any hub, the way an attacker with
 * broker access (or a buggy peer) would. `channel` is the cluster channel name
 * (`<prefix>:all`, …); `payload` is what the wire carries after the broker's own framing:
 * on Redis `<node>|<json>` is sent as given, on NATS the subject is encoded as the NATS broker does.
 */
export interface RawPublisher {
  publish(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** `redis-cli PUBLISH`, one process per message: slow, but exactly what the reproduction ran. */
export function redisCli(url: string): RawPublisher {
  return {
    publish: async (channel, payload) => {
      await run('redis-cli', ['-u', url, 'PUBLISH', channel, payload], { maxBuffer: 1 << 20 });
    },
    close: async () => undefined,
  };
}

/** An ioredis connection: for many payloads (the fuzzer). */
export async function redisPublisher(url: string): Promise<RawPublisher> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  return {
    publish: async (channel, payload) => void (await redis.publish(channel, payload)),
    close: async () => void (await redis.quit()),
  };
}

/** A plain NATS connection; subjects as src/cluster/broker/nats.ts names them. */
export async function natsPublisher(url: string): Promise<RawPublisher> {
  const nc: NatsConnection = await connect({ servers: url, name: 'actorhub-test-raw' });
  return {
    publish: async (channel, payload) => {
      nc.publish(`actorhub.${Buffer.from(channel).toString('base64url')}`, payload);
      await nc.flush();
    },
    close: () => nc.close(),
  };
}
