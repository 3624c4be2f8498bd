import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { reconnectDelayMs } from '../cluster/broker/backoff.js';
import type { HistoryPage, HistorySettings, HistoryStore, StoredMessage, StreamPosition } from './store.js';

export interface RedisHistoryOptions extends HistorySettings {
  readonly url: string;
  /** The cluster's channel prefix: keys are `<prefix>:h:{<topic>}:…`, notifications go to `<prefix>:topic:<topic>`. */
  readonly prefix: string;
  /** This node's id, written as the sender (`n`) of the notifications its appends publish. */
  readonly nodeId: string;
  /** A command not answered within this fails (the publish is answered unavailable), ms. */
  readonly commandTimeoutMs?: number;
}

/** Redis pub/sub payloads are `<node>|<envelope>`; `~` is never a node id, so every node (the appender too) takes these. */
const FROM_STORE = '~|';

/**
 * The head of both scripts: `epoch` is the stream's epoch, or false when there is none any more
 * — no hash, or a hash whose counter has handed out offsets (`top` > 0) while the stream is gone
 * (a stream always holds its newest entry). Then whatever is left of the lost epoch (an orphan
 * stream, a counter) is deleted, and `top` is 0. KEYS: meta hash, stream.
 */
const LOST_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'e')
local top = tonumber(redis.call('HGET', KEYS[1], 's') or '0') or 0
if epoch and top > 0 and redis.call('EXISTS', KEYS[2]) == 0 then epoch = false end
if not epoch then
  top = 0
  redis.call('DEL', KEYS[1], KEYS[2])
end
`;

/**
 * One atomic step per publish, as Centrifugo's Redis engine does it: the stream's epoch (created
 * on first use), its counter (HINCRBY: the one authority for offsets), the entry (XADD with
 * MAXLEN), the TTL of both keys, and the notification to the topic's channel carrying the offset
 * — in that order, inside one script, so every node sees notifications in offset order and no
 * offset is ever handed out twice or skipped. A flush, a restart without persistence or the TTL
 * removes the hash, and with it the epoch: the next use creates a new one. The two keys can also
 * go one without the other (each expires on its own, an eviction takes one): a stream without
 * its hash, or a hash that has handed out offsets without its stream, is a lost epoch too — both
 * keys are dropped and a new epoch starts at 0 (LOST_EPOCH). Without that, XADD under a reset
 * counter failed after HSET had run (every publish unavailable until the counter passed the old
 * top), and the old entries were then served under the new epoch.
 *
 * KEYS: meta hash (e = epoch, s = top offset), stream. ARGV: size, ttl ms, epoch candidate, from,
 * data (JSON text), channel ('' = none), envelope head (a JSON object without its closing brace).
 */
const APPEND = `${LOST_EPOCH}
if not epoch then
  epoch = ARGV[3]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 's', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], offset .. '-0', 'f', ARGV[4], 'd', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], '${FROM_STORE}' .. ARGV[7] .. ',"o":' .. offset .. ',"e":"' .. epoch .. '","d":' .. ARGV[5] .. '}')
end
return {offset, epoch}
`;

/**
 * The stream's position and a page of it, creating the epoch when there is none (so that a
 * position given before the first publish stays valid). ARGV: epoch candidate, ttl ms, after
 * ('' = the newest), limit.
 */
const READ = `${LOST_EPOCH}
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'e', epoch)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local first = top + 1
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
local limit = tonumber(ARGV[4])
local entries = {}
if limit > 0 then
  if ARGV[3] == '' then
    entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit)
  else
    entries = redis.call('XRANGE', KEYS[2], (tonumber(ARGV[3]) + 1) .. '-0', '+', 'COUNT', limit)
  end
end
return {top, epoch, first, entries}
`;

type Entry = [string, string[]];

const entryOf = ([id, fields]: Entry): StoredMessage => {
  const offset = Number(id.slice(0, id.indexOf('-')));
  let from = '';
  let data = 'null';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'f') from = fields[i + 1]!;
    else if (fields[i] === 'd') data = fields[i + 1]!;
  }
  return from === '' ? { offset, data } : { offset, from, data };
};

interface Scripted extends Redis {
  historyAppend(...args: (string | number)[]): Promise<[number, string]>;
  historyRead(...args: (string | number)[]): Promise<[number, string, number, Entry[]]>;
}

/**
 * History in Redis, shared by every node of a cluster (docs/scaling.md#history-across-nodes).
 * Its own connection (offline queue off, no resend: a command that cannot be sent fails at once,
 * so a publish is answered `unavailable` rather than queued without bound or replayed twice).
 */
export async function redisHistory(options: RedisHistoryOptions): Promise<HistoryStore> {
  const { size, ttlMs, prefix, nodeId } = options;
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    retryStrategy: (times: number) => reconnectDelayMs(times - 1),
    connectionName: `actorhub-history-${nodeId}`,
  }) as Scripted;
  redis.defineCommand('historyAppend', { numberOfKeys: 2, lua: APPEND });
  redis.defineCommand('historyRead', { numberOfKeys: 2, lua: READ });
  redis.on('error', () => undefined); // failures surface as rejected commands
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis at ${options.url}: ${(error as Error).message}`, { cause: error });
  }
  let failed = 0;
  // {topic} is a hash tag: both keys of a stream land on one Redis Cluster slot.
  const keys = (topic: string) => [`${prefix}:h:{${topic}}:m`, `${prefix}:h:{${topic}}:s`] as const;
  const candidate = () => randomBytes(9).toString('base64url');

  const read = async (topic: string, after: number | undefined, limit: number): Promise<HistoryPage> => {
    const [meta, stream] = keys(topic);
    const [top, epoch, first, entries] = await redis.historyRead(
      meta,
      stream,
      candidate(),
      ttlMs,
      after === undefined ? '' : after,
      limit,
    );
    const messages = entries.map(entryOf);
    if (after === undefined) messages.reverse();
    return { epoch, offset: Number(top), first: Number(first), messages };
  };

  return {
    kind: 'redis',
    synchronous: false,
    async append(topic, message): Promise<StreamPosition> {
      const [meta, stream] = keys(topic);
      const head = JSON.stringify({
        k: 'p',
        n: nodeId,
        t: topic,
        x: message.except,
        f: message.from,
      }).slice(0, -1);
      try {
        const [offset, epoch] = await redis.historyAppend(
          meta,
          stream,
          size,
          ttlMs,
          candidate(),
          message.from ?? '',
          message.data,
          message.notify === false ? '' : `${prefix}:topic:${topic}`,
          head,
        );
        return { epoch, offset: Number(offset) };
      } catch (error) {
        failed++;
        throw error;
      }
    },
    position: async (topic) => {
      const { epoch, offset } = await read(topic, undefined, 0);
      return { epoch, offset };
    },
    read: (topic, { after, limit }) => read(topic, after, limit),
    stats: () => ({ failed }),
    async close() {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
