import { Schema } from 'effect';
import { describe, expect, it } from 'vitest';
import { Receiver } from 'ws';
import { jsonFrames, RawJson, relayFrames } from '../../../src/protocol/frames.js';
import { Outbound } from '../../../src/protocol/schema.js';

/** Reads the payload back out of a server frame with ws's own parser. */
function payloadOf(frame: unknown): { text: string; binary: boolean } {
  let out: { text: string; binary: boolean } | undefined;
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, binary: boolean) => (out = { text: data.toString(), binary }));
  receiver.write(frame as Buffer);
  if (!out) throw new Error('no complete frame');
  return out;
}

const frames = jsonFrames({
  maxPayload: 10,
  maxTopicLength: 20,
  maxTopicsPerClient: 3,
  maxMembersPerTopic: null,
  maxBadFrames: 4,
});
const decode = Schema.decodeUnknownSync(Outbound);
const outbound = (frame: unknown) => decode(JSON.parse(payloadOf(frame).text));

describe('JSON protocol frames match the Outbound schema (the single source of truth)', () => {
  it.each([
    ['welcome', () => frames.welcome('c1')],
    ['topic message', () => frames.message({ a: [1] }, undefined, 'room', 'c2')],
    ['direct message', () => frames.message('hi', undefined, undefined, 'c2')],
    ['server message', () => frames.message(3, undefined, undefined, undefined)],
    ['history message', () => frames.message('x', undefined, 'news', 'c2', 4, 'ep-1')],
    ['pre-serialised message', () => frames.message(new RawJson('{"x":true}'), undefined, 't', undefined)],
    ['joined', () => frames.joined('room', { id: 'c1', meta: { n: 1 } })],
    ['left', () => frames.left('room', { id: 'c1', meta: undefined })],
    ['ack without result', () => frames.ack(1, {})],
    ['ack with result', () => frames.ack('r', { delivered: 2 })],
    ['error with ref', () => frames.error('r', 'forbidden', 'no')],
    ['error without ref', () => frames.error(undefined, 'invalid_json', 'bad')],
  ])('%s', (_name, make) => {
    const frame = make();
    expect(payloadOf(frame).binary).toBe(false);
    expect(() => outbound(frame)).not.toThrow();
  });

  it('builds exactly the documented envelopes', () => {
    expect(outbound(frames.message(new RawJson('{"x":true}'), undefined, 't', 'c9'))).toEqual({
      type: 'message',
      topic: 't',
      from: 'c9',
      data: { x: true },
    });
    expect(outbound(frames.message('x', undefined, 'news', 'c2', 4, 'ep-1'))).toEqual({
      type: 'message',
      topic: 'news',
      from: 'c2',
      offset: 4,
      epoch: 'ep-1',
      data: 'x',
    });
    expect(outbound(frames.ack(7, {}))).toEqual({ type: 'ack', ref: 7 });
    expect(outbound(frames.welcome('c1'))).toEqual({
      type: 'welcome',
      id: 'c1',
      protocol: 1,
      limits: { maxPayload: 10, maxTopicLength: 20, maxTopicsPerClient: 3, maxMembersPerTopic: null, maxBadFrames: 4 },
    });
  });

  it('escapes ids and topics that need it', () => {
    expect(outbound(frames.message('x', undefined, 'a"b', 'quote"id'))).toMatchObject({
      topic: 'a"b',
      from: 'quote"id',
    });
  });

  it('refuses binary data in JSON mode', () => {
    expect(() => frames.message(Buffer.from('x'), undefined, undefined, undefined)).toThrow(/JSON data only/);
    expect(() => frames.message('x', true, undefined, undefined)).toThrow(/JSON data only/);
  });
});

describe('relay frames', () => {
  it('send messages unchanged, with no protocol frames at all', () => {
    expect(payloadOf(relayFrames.message('plain', undefined, 't', 'c'))).toEqual({ text: 'plain', binary: false });
    expect(payloadOf(relayFrames.message(Buffer.from('b'), undefined, undefined, undefined))).toEqual({
      text: 'b',
      binary: true,
    });
    expect(payloadOf(relayFrames.message(new RawJson('[1]'), undefined, undefined, undefined))).toEqual({
      text: '[1]',
      binary: false,
    });
    expect([
      relayFrames.welcome('c'),
      relayFrames.ack(1, {}),
      relayFrames.error(1, 'x', 'y'),
      relayFrames.joined('t', { id: 'c', meta: 1 }),
    ]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
