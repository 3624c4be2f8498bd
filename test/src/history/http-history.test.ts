import { afterEach, describe, expect, it } from 'vitest';
import { startRoutedHub, type RoutedHub } from '../../support/http-hub.js';
import { connectJson } from '../../support/json-client.js';

const KEY = 'history-key-0123456789';
let h: RoutedHub | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const api = async (path: string, body?: unknown) => {
  const res = await fetch(`${h!.base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('history over the HTTP API and /metrics', () => {
  it('POST /api/publish into a history topic answers its offset and epoch; GET /api/history pages it', async () => {
    h = await startRoutedHub(
      { protocol: 'json', history: { size: 50, ttlMs: 60_000, topics: ['news'] } },
      { api: { apiKey: KEY } },
    );
    const { client } = await connectJson(h.ws);
    await client.call({ type: 'subscribe', topic: 'news' });
    const first = await api('/api/publish', { topic: 'news', data: { headline: 'one' } });
    expect(first).toEqual({ status: 200, body: { delivered: 1, offset: 1, epoch: expect.any(String) } });
    expect(await client.next('message')).toEqual({
      type: 'message',
      topic: 'news',
      offset: 1,
      epoch: first.body.epoch,
      data: { headline: 'one' },
    });
    for (let i = 2; i <= 5; i++) await api('/api/publish', { topic: 'news', data: i });
    // A topic without history keeps the old answer.
    expect(await api('/api/publish', { topic: 'other', data: 1 })).toEqual({ status: 200, body: { delivered: 0 } });

    const epoch = first.body.epoch as string;
    const newest = await api('/api/history?topic=news&limit=2');
    expect(newest).toEqual({
      status: 200,
      body: {
        epoch,
        offset: 5,
        messages: [
          { offset: 4, data: 4 },
          { offset: 5, data: 5 },
        ],
      },
    });
    const page = await api(`/api/history?topic=news&limit=2&since=1&epoch=${encodeURIComponent(epoch)}`);
    expect((page.body.messages as { offset: number }[]).map((m) => m.offset)).toEqual([2, 3]);
    expect(await api('/api/history?topic=other')).toMatchObject({ status: 404, body: { error: 'no_history' } });
    expect(await api('/api/history?topic=bad%20name')).toMatchObject({ status: 400, body: { error: 'invalid_body' } });
    expect(await api('/api/history?topic=news&limit=0')).toMatchObject({
      status: 400,
      body: { error: 'invalid_body' },
    });
    expect(await api('/api/history?topic=news&since=3')).toMatchObject({
      status: 400,
      body: { error: 'invalid_body' },
    });

    const metrics = await h.scrape();
    expect(metrics.get('actorhub_history_streams')).toBe(1);
    expect(metrics.get('actorhub_history_messages')).toBe(5);
    expect(metrics.get('actorhub_history_evicted_total')).toBe(0);
  });
});
