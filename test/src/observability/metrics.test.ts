import { afterEach, describe, expect, it } from 'vitest';
import type { ClientOptions } from 'ws';
import type { Hub } from '../../../src/hub.js';
import type { HubOptions } from '../../../src/types.js';
import { startRoutedHub, type RoutedHub } from '../../support/http-hub.js';
import { connectJson } from '../../support/json-client.js';
import type { PromText } from '../../support/prom-text.js';
import { connect, whenCount, type TestClient } from '../../support/ws-client.js';
import { socketOf, yieldToIo } from '../../support/stalled-reader.js';

let h: RoutedHub | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Bytes of an unmasked server frame carrying `payload` bytes. */
const frameBytes = (payload: number): number => payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);

/** Every disconnects_total sample as "reason code" → count. */
const disconnects = (m: PromText): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, value] of m.samples) {
    const d = /^actorhub_disconnects_total\{code="([^"]+)",reason="([^"]+)"\}$/.exec(key);
    if (d && value > 0) out[`${d[2]} ${d[1]}`] = value;
  }
  return out;
};

describe('GET /metrics', () => {
  it("is Prometheus text from the hub's own registry, with the documented types", async () => {
    h = await startRoutedHub();
    const res = await fetch(`${h.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = await h.scrape();
    expect(m.types.get('actorhub_connections')).toBe('gauge');
    expect(m.types.get('actorhub_connects_total')).toBe('counter');
    expect(m.types.get('actorhub_disconnects_total')).toBe('counter');
    expect(m.types.get('actorhub_messages_received_total')).toBe('counter');
    expect(m.types.get('actorhub_fanout_seconds')).toBe('histogram');
    expect(m.types.get('actorhub_outbound_queue_max_messages')).toBe('gauge');
    expect(m.types.get('actorhub_topics')).toBe('gauge');
    // Single node: no broker metrics at all (a 0 would read as "broker down").
    expect([...m.types.keys()].filter((n) => n.startsWith('actorhub_broker'))).toEqual([]);
    expect(m.get('actorhub_connections')).toBe(0);
    expect(m.get('actorhub_fanout_seconds_count', { kind: 'broadcast' })).toBe(0);
    // Two hubs in one process have separate registries.
    const other = await startRoutedHub();
    try {
      expect(other.hub.metrics).not.toBe(h.hub.metrics);
      await connect(other.ws).then((c) => c.ws.close());
      await whenCount(other.hub, (n) => n === 0);
      expect((await other.scrape()).get('actorhub_connects_total')).toBe(1);
      expect((await h.scrape()).get('actorhub_connects_total')).toBe(0);
    } finally {
      await other.stop();
    }
  });

  it('counts connections, messages and bytes both ways exactly, topics, and times each dispatch', async () => {
    h = await startRoutedHub();
    const { client: a } = await connectJson(h.ws);
    const { client: b } = await connectJson(h.ws);
    let m = await h.scrape();
    expect(m.get('actorhub_connections')).toBe(2);
    expect(m.get('actorhub_connects_total')).toBe(2);

    const sent: string[] = [];
    const send = (c: typeof a, frame: object): void => {
      const text = JSON.stringify(frame);
      sent.push(text);
      c.send(text);
    };
    send(a, { type: 'subscribe', topic: 'news', ref: 1 });
    await a.next('ack');
    send(b, { type: 'subscribe', topic: 'news', ref: 2 });
    await b.next('ack');
    send(a, { type: 'publish', topic: 'news', data: { n: 1 } });
    await b.next('message');
    h.hub.broadcast({ all: true });
    await a.next('message');
    await b.next('message');

    m = await h.scrape();
    expect(m.get('actorhub_topics')).toBe(1);
    expect(m.get('actorhub_messages_received_total')).toBe(3);
    expect(m.get('actorhub_received_bytes_total')).toBe(sent.reduce((n, t) => n + Buffer.byteLength(t), 0));
    // welcome + ack + broadcast to a; welcome + ack + publish + broadcast to b.
    const received = [...a.raw.messages, ...b.raw.messages];
    expect(received).toHaveLength(7);
    expect(m.get('actorhub_messages_sent_total')).toBe(7);
    expect(m.get('actorhub_sent_bytes_total')).toBe(received.reduce((n, msg) => n + frameBytes(msg.data.length), 0));
    expect(m.get('actorhub_messages_dropped_total')).toBe(0);

    for (const kind of ['broadcast', 'publish']) {
      expect(m.get('actorhub_fanout_seconds_count', { kind })).toBe(1);
      expect(m.get('actorhub_fanout_seconds_bucket', { kind, le: '+Inf' })).toBe(1);
      expect(m.get('actorhub_fanout_seconds_sum', { kind })).toBeGreaterThan(0);
      const buckets = [...m.samples]
        .filter(([k]) => k.startsWith('actorhub_fanout_seconds_bucket{kind="' + kind))
        .map(([, v]) => v);
      expect(buckets.length).toBeGreaterThan(5);
      expect(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]!)).toBe(true);
    }
  });

  it('samples the outbound queues at scrape time: depth of a stalled client, then empty once it reads again', async () => {
    const maxMessages = 8;
    h = await startRoutedHub({
      protocol: 'relay',
      outbound: { policy: 'drop-newest', maxMessages, maxBytes: 1024 * 1024 },
    });
    const slow = await connect(h.ws);
    const healthy = await connect(h.ws);
    await whenCount(h.hub, (n) => n === 2);
    socketOf(slow).pause();
    const filler = 'x'.repeat(16 * 1024);
    let sent = 0;
    while (h.hub.stats.dropped === 0 && sent < 6_000) {
      for (let k = 0; k < 8; k++, sent++) h.hub.broadcast(filler);
      await yieldToIo();
    }
    let m = await h.scrape();
    expect(m.get('actorhub_outbound_queue_max_messages')).toBe(maxMessages);
    expect(m.get('actorhub_outbound_queued_messages')).toBe(maxMessages);
    expect(m.get('actorhub_outbound_queued_bytes')).toBe(maxMessages * frameBytes(filler.length));
    expect(m.get('actorhub_outbound_backlogged_clients')).toBe(1);
    expect(m.get('actorhub_messages_dropped_total')).toBe(h.hub.stats.dropped);
    expect(h.hub.stats.dropped).toBeGreaterThan(0);

    socketOf(slow).resume();
    await healthy.received(sent);
    await slow.received(sent - h.hub.stats.dropped);
    m = await h.scrape();
    expect(m.get('actorhub_outbound_queue_max_messages')).toBe(0);
    expect(m.get('actorhub_outbound_backlogged_clients')).toBe(0);
  });
});

describe('actorhub_upgrades_rejected_total', () => {
  it('counts refused upgrades by HTTP status', async () => {
    h = await startRoutedHub({ origins: ['https://ok.example'], maxClients: 1 });
    await expect(connect(h.ws.replace('/ws', '/elsewhere'))).rejects.toThrow(/404/);
    await expect(connect(h.ws, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    await expect(connect(h.ws, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    await connect(h.ws, { origin: 'https://ok.example' });
    await expect(connect(h.ws, { origin: 'https://ok.example' })).rejects.toThrow(/503/);
    const m = await h.scrape();
    expect(m.get('actorhub_upgrades_rejected_total', { status: '404' })).toBe(1);
    expect(m.get('actorhub_upgrades_rejected_total', { status: '403' })).toBe(2);
    expect(m.get('actorhub_upgrades_rejected_total', { status: '503' })).toBe(1);
    expect(m.get('actorhub_connects_total')).toBe(1);
  });
});

describe('actorhub_disconnects_total by reason and close code', () => {
  interface Case {
    readonly name: string;
    readonly options?: HubOptions;
    readonly clientOptions?: ClientOptions;
    readonly provoke: (c: TestClient, hub: Hub) => void | Promise<void>;
    readonly expected: string;
  }
  const cases: Case[] = [
    { name: 'the peer closes with 1000', provoke: (c) => c.ws.close(1000), expected: 'normal 1000' },
    { name: 'the peer goes away (1001)', provoke: (c) => c.ws.close(1001), expected: 'going_away 1001' },
    { name: 'the peer drops the TCP connection', provoke: (c) => c.ws.terminate(), expected: 'reset 1006' },
    { name: 'the peer closes with an application code', provoke: (c) => c.ws.close(4321), expected: 'other 4xxx' },
    {
      name: 'hub.disconnect(id)',
      provoke: (_, hub) => void hub.disconnect(hub.clients()[0]!.id),
      expected: 'normal 1000',
    },
    {
      name: 'hub.disconnect(id, 4000)',
      provoke: (_, hub) => void hub.disconnect(hub.clients()[0]!.id, 4000, 'bye'),
      expected: 'other 4xxx',
    },
    {
      name: 'too many bad frames (1008)',
      options: { maxBadFrames: 1 },
      provoke: (c) => (c.send('not json'), c.send('still not json')),
      expected: 'policy 1008',
    },
    {
      name: 'a message over maxPayload (1009)',
      options: { maxPayload: 1024 },
      provoke: (c) => c.send('x'.repeat(2048)),
      expected: 'too_big 1009',
    },
    {
      name: 'a text frame that is not UTF-8 (1007)',
      provoke: (c) => c.ws.send(Buffer.from([0xff, 0xfe]), { binary: false }),
      expected: 'invalid_payload 1007',
    },
    {
      name: 'a peer that stops answering pings',
      options: { pingIntervalMs: 30, pongWaitMs: 80 },
      clientOptions: { autoPong: false },
      provoke: () => undefined,
      expected: 'heartbeat_timeout 1006',
    },
    {
      name: 'an onMessage hook that throws (1011)',
      options: {
        onMessage: () => {
          throw new Error('boom');
        },
      },
      provoke: (c) => c.send('hi'),
      expected: 'error 1011',
    },
    {
      name: 'a slow consumer under the close policy (4008)',
      options: { protocol: 'relay', outbound: { policy: 'close', maxMessages: 8 }, closeTimeoutMs: 100 },
      provoke: async (c, hub) => {
        socketOf(c).pause();
        const filler = 'x'.repeat(16 * 1024);
        for (let i = 0; i < 6_000 && hub.stats.slowConsumerCloses === 0; i++) {
          hub.broadcast(filler);
          if (i % 8 === 7) await yieldToIo();
        }
        socketOf(c).resume();
      },
      expected: 'slow_consumer 4008',
    },
    {
      name: 'the hub closes (1001)',
      provoke: (_, hub) => void hub.close({ timeoutMs: 200 }),
      expected: 'going_away 1001',
    },
  ];

  it.each(cases)('$name → $expected', async ({ options, clientOptions, provoke, expected }) => {
    h = await startRoutedHub(options);
    const before = await h.scrape();
    expect(disconnects(before)).toEqual({});
    const client = await connect(h.ws, clientOptions);
    await whenCount(h.hub, (n) => n === 1);
    await provoke(client, h.hub);
    await client.closed;
    await whenCount(h.hub, (n) => n === 0);
    const m = await h.scrape();
    expect(disconnects(m)).toEqual({ [expected]: 1 });
    expect(m.get('actorhub_connects_total')).toBe(1);
    expect(m.get('actorhub_connections')).toBe(0);
  });
});
