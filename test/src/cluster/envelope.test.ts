import { describe, expect, it } from 'vitest';
import {
  depthWithin,
  encodeWithData,
  makeEnvelopeDecoder,
  syncParts,
  toHubEvent,
} from '../../../src/cluster/envelope.js';

const decode = makeEnvelopeDecoder({ maxBytes: 4096, maxDepth: 8, maxTopicLength: 16 });
const ok = (payload: string) => {
  const r = decode(payload);
  if (!r.ok) throw new Error(`rejected: ${r.why}`);
  return r.envelope;
};
const why = (payload: string) => {
  const r = decode(payload);
  return r.ok ? 'accepted' : r.why;
};
const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);

describe('broker envelopes are decoded with a schema', () => {
  it('accepts every kind a node writes, and turns it into the same hub event as before', () => {
    expect(toHubEvent(ok(encodeWithData({ k: 'b', n: 'n1', x: 'c1' }, { a: [1] }, undefined)))).toEqual({
      type: 'hub.remote.broadcast',
      data: { a: [1] },
      except: 'c1',
    });
    expect(toHubEvent(ok(encodeWithData({ k: 'p', n: 'n1', t: 'room', f: 'c1' }, Buffer.from('hi'), false)))).toEqual({
      type: 'hub.remote.publish',
      topic: 'room',
      data: Buffer.from('hi'),
      binary: false,
      from: 'c1',
    });
    expect(toHubEvent(ok(encodeWithData({ k: 's', n: 'n1', to: 'c2' }, 'x', true)))).toEqual({
      type: 'hub.remote.send',
      to: 'c2',
      data: 'x',
      binary: true,
    });
    expect(toHubEvent(ok('{"k":"c+","n":"n1","i":"b1","v":1,"id":"c1","m":{"name":"a"}}'))).toEqual({
      type: 'hub.remote.clientUp',
      node: 'n1',
      id: 'c1',
      meta: { name: 'a' },
    });
    expect(toHubEvent(ok('{"k":"l","n":"n1","i":"b1","v":2,"t":"room","id":"c1"}'))).toEqual({
      type: 'hub.remote.left',
      topic: 'room',
      id: 'c1',
    });
    expect(
      toHubEvent(ok('{"k":"sync","n":"n1","i":"b1","v":7,"c":[["c1"],["c2",{"r":1}]],"j":[["room","c1"]]}')),
    ).toEqual({
      type: 'hub.remote.sync',
      node: 'n1',
      clients: [
        ['c1', undefined],
        ['c2', { r: 1 }],
      ],
      joins: [['room', 'c1']],
    });
    expect(ok('{"k":"hb","n":"n1","i":"b1","v":3,"future":"ignored"}')).toEqual({ k: 'hb', n: 'n1', i: 'b1', v: 3 });
  });

  // Each payload is valid but for the one thing its name says, and the reason is asserted: a
  // case that failed on something else (a missing key, the size) would prove nothing.
  it.each([
    [
      'b64 of the wrong type (the issue: Buffer.from(123) threw in the ioredis handler)',
      '{"k":"b","n":"e","b64":123}',
      /^Expected string$/,
    ],
    [
      'b64 as an array-like (the issue: 200 MB allocated)',
      '{"k":"b","n":"e","b64":{"length":200000000}}',
      /^Expected string$/,
    ],
    ['b64 that is not base64', '{"k":"b","n":"e","b64":"%%%"}', /^Expected a string matching the RegExp \^\[A-Za-z0-9/],
    ['neither data nor bytes', '{"k":"b","n":"e"}', /^exactly one of d and b64$/],
    ['both data and bytes', '{"k":"b","n":"e","d":1,"b64":""}', /^exactly one of d and b64$/],
    ['data nested deeper than the limit', `{"k":"p","n":"e","t":"room","d":${nest(9)}}`, /^data nested deeper than 8$/],
    [
      'metadata nested deeper than the limit',
      `{"k":"c+","n":"e","i":"b","v":1,"id":"c","m":${nest(9)}}`,
      /^metadata nested deeper than 8$/,
    ],
    [
      'a topic longer than the hub allows',
      '{"k":"j","n":"e","i":"b","v":1,"t":"aaaaaaaaaaaaaaaaa","id":"c"}',
      /^Expected a value with a length of at most 16$/,
    ],
    [
      'a topic with characters topics may not hold',
      '{"k":"p","n":"e","t":"a b","d":1}',
      /^Expected a string matching the RegExp \^\[A-Za-z0-9\._:/,
    ],
    [
      'a node id that could not be one',
      '{"k":"hb","n":"a:b","i":"b","v":1}',
      /^Expected a string matching the RegExp \^\[A-Za-z0-9_-\]\{1,64\}/,
    ],
    [
      'an empty client id',
      '{"k":"c-","n":"e","i":"b","v":1,"id":""}',
      /^Expected a value with a length of at least 1$/,
    ],
    ['an unknown kind', '{"k":"zz","n":"e","i":"b","v":1}', /^Expected \{ readonly "k": "b"/],
    ['a presence change without its incarnation and version', '{"k":"c-","n":"e","id":"c"}', /^Missing key$/],
    ['a version that is not a non-negative integer', '{"k":"hb","n":"e","i":"b","v":-1}', /greater than or equal to 0/],
    ['a fractional version', '{"k":"hb","n":"e","i":"b","v":1.5}', /^Expected an integer$/],
    ['not an object', '[1,2]', /^Expected \{ readonly "k": "b"/],
    ['not JSON', '{"k":', /^not JSON$/],
  ])('drops %s', (_, payload, reason) => {
    expect(why(payload)).toMatch(reason);
  });

  // A sync is one node's whole state: one bad entry is skipped and counted, the rest applied
  // (one client's metadata used to hide its whole node).
  const sync = '"k":"sync","n":"e","i":"b","v":1';
  it.each([
    ['sync clients that are not entries (the issue: TypeError in the hub)', `{${sync},"c":[1,["ok"]],"j":[]}`],
    ['sync joins that are not pairs', `{${sync},"c":[["ok"]],"j":[5,["room","ok"]]}`],
    ['sync metadata nested deeper than the limit', `{${sync},"c":[["c",${nest(9)}],["ok"]],"j":[]}`],
    ['a sync join with a topic longer than the hub allows', `{${sync},"c":[["ok"]],"j":[["aaaaaaaaaaaaaaaaa","ok"]]}`],
  ])('skips %s, and keeps the rest of the sync', (_, payload) => {
    const e = ok(payload);
    expect(e).toMatchObject({ k: 'sync', skipped: 1, c: [['ok']] });
  });

  it('skips sync metadata nested 20,000 deep (the issue: RangeError in presence), within the size limit', () => {
    const roomy = makeEnvelopeDecoder({ maxBytes: 100_000, maxDepth: 8, maxTopicLength: 16 });
    const r = roomy(`{${sync},"c":[["c",${nest(20_000)}],["ok",{"a":1}]],"j":[["room","c"],["room","ok"]]}`);
    if (!r.ok) throw new Error(`rejected: ${r.why}`);
    expect(r.envelope).toMatchObject({ skipped: 1, c: [['ok', { a: 1 }]] });
    // The skipped client's membership goes with it: no member without its metadata.
    expect(toHubEvent(r.envelope)).toEqual({
      type: 'hub.remote.sync',
      node: 'e',
      clients: [['ok', { a: 1 }]],
      joins: [['room', 'ok']],
    });
  });

  it('drops a payload larger than the limit without parsing it', () => {
    expect(why(`{"k":"b","n":"e","d":"${'x'.repeat(5000)}"}`)).toBe('larger than 4096 bytes');
  });

  it('measures depth without recursion, at any depth', () => {
    const deep = JSON.parse(nest(100_000)) as unknown;
    expect(depthWithin(deep, 128)).toBe(false);
    expect(depthWithin(JSON.parse(nest(128)), 128)).toBe(true);
    expect(depthWithin({ a: [{ b: 1 }] }, 3)).toBe(true);
    expect(depthWithin({ a: [{ b: {} }] }, 3)).toBe(false);
    expect(depthWithin('scalar', 0)).toBe(true);
  });

  it('writes a large state as sync parts within the part size, each a valid envelope, together the whole state', () => {
    const clients: [string, unknown][] = Array.from({ length: 200 }, (_, i) => [`c${i}`, i % 2 ? { n: i } : undefined]);
    const joins: [string, string][] = clients.map(([id], i) => [`t${i % 7}`, id]);
    const head = { n: 'n1', i: 'boot1', v: 42 };
    const parts = syncParts(head, clients, joins, 512).map(ok);
    expect(parts.length).toBeGreaterThan(10);
    parts.forEach((part, p) =>
      expect(part).toMatchObject({ k: 'sync', n: 'n1', i: 'boot1', v: 42, p, of: parts.length }),
    );
    for (const text of syncParts(head, clients, joins, 512)) expect(text.length).toBeLessThanOrEqual(512 + 100);
    const all = parts as Extract<(typeof parts)[number], { k: 'sync' }>[];
    expect(all.flatMap((part) => part.c)).toEqual(clients.map(([id, m]) => (m === undefined ? [id] : [id, m])));
    expect(all.flatMap((part) => part.j)).toEqual(joins);
    // A small state stays one message without part fields, as before; an empty one too.
    expect(ok(syncParts(head, [['c1', undefined]], [['t', 'c1']], 512)[0]!)).toEqual({
      k: 'sync',
      ...head,
      c: [['c1']],
      j: [['t', 'c1']],
      skipped: 0,
    });
    expect(syncParts(head, [], [], 512)).toEqual(['{"k":"sync","n":"n1","i":"boot1","v":42,"c":[],"j":[]}']);
  });

  it('refuses sync parts that do not add up', () => {
    const head = '{"k":"sync","n":"n1","i":"b","v":1,"c":[],"j":[]';
    expect(why(`${head},"p":0,"of":2}`)).toBe('accepted');
    expect(why(`${head},"p":2,"of":2}`)).toMatch(/p < of/);
    expect(why(`${head},"p":0}`)).toMatch(/p < of/);
    expect(why(`${head},"of":1}`)).toMatch(/p < of/);
    expect(why(`${head},"p":-1,"of":2}`)).not.toBe('accepted');
    expect(why(`${head},"p":0,"of":65537}`)).not.toBe('accepted');
    expect(why(`${head},"p":0.5,"of":2}`)).not.toBe('accepted');
  });
});
