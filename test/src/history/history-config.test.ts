import { Effect, Exit } from 'effect';
import { describe, expect, it } from 'vitest';
import { parseCliArgs, readServerConfig } from '../../../src/server/config.js';
import { resolveOptions } from '../../../src/options.js';
import { createHub } from '../../../src/hub.js';
import { memoryBroker, createMemoryBus } from '../../../src/cluster/broker/memory.js';

const read = (env: Record<string, string>) => Effect.runSyncExit(readServerConfig(env));

describe('history settings', () => {
  it('--history-size, --history-ttl, --history-topics, --history-max-streams (and their variables) reach createHub', () => {
    const { env } = parseCliArgs([
      '--history-size',
      '200',
      '--history-ttl',
      '30000',
      '--history-topics',
      'news, chat:*',
      '--history-max-streams',
      '500',
    ]);
    expect(env).toMatchObject({
      ACTORHUB_HISTORY_SIZE: '200',
      ACTORHUB_HISTORY_TTL_MS: '30000',
      ACTORHUB_HISTORY_TOPICS: 'news, chat:*',
      ACTORHUB_HISTORY_MAX_STREAMS: '500',
    });
    const exit = read(env);
    if (!Exit.isSuccess(exit)) throw new Error('refused');
    expect(exit.value.hub.history).toEqual({ size: 200, ttlMs: 30000, maxStreams: 500, topics: ['news', 'chat:*'] });
    expect(resolveOptions(exit.value.hub).history).toEqual({
      size: 200,
      ttlMs: 30000,
      maxStreams: 500,
      topics: ['news', 'chat:*'],
    });
  });

  it('history is off by default; bad values are refused with a sentence', () => {
    expect(resolveOptions({}).history.size).toBe(0);
    expect(Exit.isFailure(read({ ACTORHUB_HISTORY_SIZE: '-1' }))).toBe(true);
    expect(Exit.isFailure(read({ ACTORHUB_HISTORY_SIZE: '10', ACTORHUB_HISTORY_TTL_MS: '0' }))).toBe(true);
    expect(() => resolveOptions({ history: { size: 10, topics: ['bad name'] } })).toThrow(/history.topics/);
    expect(() => resolveOptions({ protocol: 'relay', history: { size: 10 } })).toThrow(/json protocol/);
  });

  it('a cluster hub refuses the in-memory store (each node would number apart)', () => {
    const broker = memoryBroker(createMemoryBus());
    expect(() => createHub({ history: { size: 10 }, cluster: { broker, nodeId: 'n1' } })).toThrow(/shared store/);
    void broker.close();
  });
});
