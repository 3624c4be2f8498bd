import { Buffer } from 'node:buffer';
import { type EventEmitter } from 'node:events';
import * as wsModule from 'ws';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/transport/frame.js';

/**
 * encodeFrame must produce one complete, unmasked server frame (RFC 6455 §5.2). The header is
 * decoded here by hand, independently of ws, and the result is also fed to ws's own Receiver.
 */

interface Decoded {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** 7 = the length fits in the first byte, 16 = extended 16-bit (126), 64 = extended 64-bit (127). */
  lengthForm: 7 | 16 | 64;
  payloadLength: number;
  payload: Buffer;
}

function decode(frame: Buffer): Decoded {
  expect(Buffer.isBuffer(frame)).toBe(true);
  expect(frame.length).toBeGreaterThanOrEqual(2);
  const b0 = frame[0]!;
  const b1 = frame[1]!;
  const len7 = b1 & 0x7f;
  let offset = 2;
  let payloadLength: number;
  let lengthForm: 7 | 16 | 64;
  if (len7 === 126) {
    payloadLength = frame.readUInt16BE(2);
    offset = 4;
    lengthForm = 16;
  } else if (len7 === 127) {
    const big = frame.readBigUInt64BE(2);
    expect(big >> 63n).toBe(0n); // the most significant bit must be 0 (§5.2)
    payloadLength = Number(big);
    offset = 10;
    lengthForm = 64;
  } else {
    payloadLength = len7;
    lengthForm = 7;
  }
  const masked = (b1 & 0x80) !== 0;
  if (masked) offset += 4;
  // A complete frame: header + exactly the announced payload, nothing more, nothing less.
  expect(frame.length).toBe(offset + payloadLength);
  return {
    fin: (b0 & 0x80) !== 0,
    rsv: (b0 & 0x70) >> 4,
    opcode: b0 & 0x0f,
    masked,
    lengthForm,
    payloadLength,
    payload: frame.subarray(offset),
  };
}

/** Checks the header bits every server frame shares, and returns the decoded frame. */
function decodeServerFrame(frame: Buffer): Decoded {
  const d = decode(frame);
  expect(d.fin).toBe(true);
  expect(d.rsv).toBe(0);
  expect(d.masked).toBe(false);
  return d;
}

const TEXT = 1;
const BINARY = 2;

describe('encodeFrame: what is sent and with which opcode', () => {
  it('sends a string as a UTF-8 text frame', () => {
    const d = decodeServerFrame(encodeFrame('héllo 🌍'));
    expect(d.opcode).toBe(TEXT);
    expect(d.payload.toString('utf8')).toBe('héllo 🌍');
    expect(d.payloadLength).toBe(Buffer.byteLength('héllo 🌍', 'utf8'));
  });

  it('sends a string as binary when binary: true', () => {
    const d = decodeServerFrame(encodeFrame('abc', true));
    expect(d.opcode).toBe(BINARY);
    expect(d.payload.toString('utf8')).toBe('abc');
  });

  it('sends a string as text when binary: false', () => {
    const d = decodeServerFrame(encodeFrame('abc', false));
    expect(d.opcode).toBe(TEXT);
    expect(d.payload.toString('utf8')).toBe('abc');
  });

  it('sends a Buffer as a binary frame with its exact bytes', () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const d = decodeServerFrame(encodeFrame(bytes));
    expect(d.opcode).toBe(BINARY);
    expect(d.payload.equals(bytes)).toBe(true);
  });

  it('sends a Buffer as text when binary: false', () => {
    const d = decodeServerFrame(encodeFrame(Buffer.from('{"a":1}'), false));
    expect(d.opcode).toBe(TEXT);
    expect(d.payload.toString()).toBe('{"a":1}');
  });

  it('sends a plain Uint8Array as binary', () => {
    const bytes = new Uint8Array([9, 8, 7, 6]);
    const d = decodeServerFrame(encodeFrame(bytes));
    expect(d.opcode).toBe(BINARY);
    expect([...d.payload]).toEqual([9, 8, 7, 6]);
  });

  it('sends only the bytes of a Uint8Array view, not its whole underlying buffer', () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const view = backing.subarray(2, 5); // [3, 4, 5]
    const d = decodeServerFrame(encodeFrame(view));
    expect(d.opcode).toBe(BINARY);
    expect(d.payloadLength).toBe(3);
    expect([...d.payload]).toEqual([3, 4, 5]);
  });

  it('sends only the bytes of a Buffer slice', () => {
    const slice = Buffer.from('0123456789').subarray(3, 6);
    const d = decodeServerFrame(encodeFrame(slice));
    expect(d.payload.toString()).toBe('345');
  });

  it('sends a Uint8Array as text when binary: false', () => {
    const d = decodeServerFrame(encodeFrame(new TextEncoder().encode('hi'), false));
    expect(d.opcode).toBe(TEXT);
    expect(d.payload.toString()).toBe('hi');
  });

  it('sends an ArrayBuffer as binary', () => {
    const ab = new Uint8Array([10, 20, 30]).buffer;
    const d = decodeServerFrame(encodeFrame(ab));
    expect(d.opcode).toBe(BINARY);
    expect([...d.payload]).toEqual([10, 20, 30]);
  });

  it('sends an ArrayBuffer as text when binary: false', () => {
    const ab = new TextEncoder().encode('yo').buffer;
    const d = decodeServerFrame(encodeFrame(ab, false));
    expect(d.opcode).toBe(TEXT);
    expect(d.payload.toString()).toBe('yo');
  });

  it('sends an object as JSON text', () => {
    const value = { type: 'chat', text: 'hé', n: [1, 2, { deep: true }], nothing: null };
    const d = decodeServerFrame(encodeFrame(value));
    expect(d.opcode).toBe(TEXT);
    expect(JSON.parse(d.payload.toString('utf8'))).toEqual(value);
    expect(d.payload.toString('utf8')).toBe(JSON.stringify(value));
  });

  it('sends an array as JSON text', () => {
    const d = decodeServerFrame(encodeFrame([1, 'two', { three: 3 }]));
    expect(d.opcode).toBe(TEXT);
    expect(d.payload.toString()).toBe('[1,"two",{"three":3}]');
  });

  it('sends numbers, booleans and null as JSON text', () => {
    for (const [value, text] of [
      [42, '42'],
      [-1.5, '-1.5'],
      [0, '0'],
      [true, 'true'],
      [false, 'false'],
      [null, 'null'],
    ] as const) {
      const d = decodeServerFrame(encodeFrame(value));
      expect(d.opcode).toBe(TEXT);
      expect(d.payload.toString()).toBe(text);
    }
  });

  it('uses toJSON when the value has one', () => {
    const d = decodeServerFrame(encodeFrame({ when: new Date(0) }));
    expect(d.payload.toString()).toBe('{"when":"1970-01-01T00:00:00.000Z"}');
  });

  it('sends the empty string as an empty text frame', () => {
    const frame = encodeFrame('');
    expect([...frame]).toEqual([0x81, 0x00]);
  });

  it('sends an empty Buffer as an empty binary frame', () => {
    const frame = encodeFrame(Buffer.alloc(0));
    expect([...frame]).toEqual([0x82, 0x00]);
  });

  it('produces the exact bytes of a small text frame', () => {
    expect([...encodeFrame('Hi')]).toEqual([0x81, 0x02, 0x48, 0x69]);
  });

  it('throws a TypeError for undefined (it has no JSON form)', () => {
    expect(() => encodeFrame(undefined)).toThrow(TypeError);
  });

  it('throws a TypeError for a function', () => {
    expect(() => encodeFrame(() => 1)).toThrow(TypeError);
  });

  it('throws a TypeError for a symbol', () => {
    expect(() => encodeFrame(Symbol('s'))).toThrow(TypeError);
  });

  it("does not modify the caller's buffer", () => {
    const bytes = Buffer.from([1, 2, 3, 4]);
    encodeFrame(bytes);
    expect([...bytes]).toEqual([1, 2, 3, 4]);
  });
});

describe('encodeFrame: payload length forms', () => {
  const cases: { length: number; form: 7 | 16 | 64; headerBytes: number }[] = [
    { length: 0, form: 7, headerBytes: 2 },
    { length: 1, form: 7, headerBytes: 2 },
    { length: 125, form: 7, headerBytes: 2 },
    { length: 126, form: 16, headerBytes: 4 },
    { length: 127, form: 16, headerBytes: 4 },
    { length: 65_535, form: 16, headerBytes: 4 },
    { length: 65_536, form: 64, headerBytes: 10 },
    { length: 200_000, form: 64, headerBytes: 10 },
  ];

  for (const { length, form, headerBytes } of cases) {
    it(`encodes a ${length}-byte binary payload with the ${form}-bit length form`, () => {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
      const frame = encodeFrame(bytes);
      const d = decodeServerFrame(frame);
      expect(d.opcode).toBe(BINARY);
      expect(d.lengthForm).toBe(form);
      expect(d.payloadLength).toBe(length);
      expect(frame.length).toBe(headerBytes + length);
      expect(d.payload.equals(bytes)).toBe(true);
    });

    it(`encodes a ${length}-byte text payload with the ${form}-bit length form`, () => {
      const text = 'x'.repeat(length);
      const frame = encodeFrame(text);
      const d = decodeServerFrame(frame);
      expect(d.opcode).toBe(TEXT);
      expect(d.lengthForm).toBe(form);
      expect(d.payloadLength).toBe(length);
      expect(frame.length).toBe(headerBytes + length);
      expect(d.payload.toString()).toBe(text);
    });
  }

  it('counts UTF-8 bytes, not characters, in the length', () => {
    // 63 two-byte characters = 126 bytes: just past the 7-bit form although only 63 characters.
    const text = 'é'.repeat(63);
    const d = decodeServerFrame(encodeFrame(text));
    expect(d.lengthForm).toBe(16);
    expect(d.payloadLength).toBe(126);
    expect(d.payload.toString('utf8')).toBe(text);
  });

  it('writes the JSON byte length for objects', () => {
    const value = { s: 'y'.repeat(70_000) };
    const d = decodeServerFrame(encodeFrame(value));
    expect(d.lengthForm).toBe(64);
    expect(d.payloadLength).toBe(Buffer.byteLength(JSON.stringify(value)));
  });
});

// ws exports Receiver at runtime (ws/wrapper.mjs); @types/ws does not declare it.
type ReceiverInstance = EventEmitter & { write(chunk: Buffer): boolean };
type ReceiverCtor = new (options: { isServer: boolean; binaryType?: string; maxPayload?: number }) => ReceiverInstance;
const Receiver = (wsModule as unknown as { Receiver: ReceiverCtor }).Receiver;

/** Feeds frames to a client-side ws Receiver and collects the messages it parses. */
function receiveAll(frames: Buffer[]): { data: Buffer; binary: boolean }[] {
  const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer', maxPayload: 0 });
  const messages: { data: Buffer; binary: boolean }[] = [];
  const errors: unknown[] = [];
  receiver.on('message', (data: Buffer, binary: boolean) => messages.push({ data, binary }));
  receiver.on('error', (err: unknown) => errors.push(err));
  for (const frame of frames) receiver.write(frame);
  expect(errors).toEqual([]);
  return messages;
}

describe('encodeFrame: round trip through a real ws Receiver (client side)', () => {
  it('exists at runtime', () => {
    expect(typeof Receiver).toBe('function');
  });

  it('parses every kind of frame back to the original message, in order', () => {
    const big = Buffer.alloc(70_000, 0xab);
    const frames = [
      encodeFrame('hello'),
      encodeFrame(Buffer.from([1, 2, 3])),
      encodeFrame({ a: [1, 2] }),
      encodeFrame('x'.repeat(126)),
      encodeFrame(big),
      encodeFrame(''),
      encodeFrame(new Uint8Array([5, 6]).buffer, false),
    ];
    // All at once, as one TCP chunk would deliver them.
    const messages = receiveAll([Buffer.concat(frames)]);
    expect(messages.map((m) => m.binary)).toEqual([false, true, false, false, true, false, false]);
    expect(messages[0]!.data.toString()).toBe('hello');
    expect([...messages[1]!.data]).toEqual([1, 2, 3]);
    expect(JSON.parse(messages[2]!.data.toString())).toEqual({ a: [1, 2] });
    expect(messages[3]!.data.toString()).toBe('x'.repeat(126));
    expect(messages[4]!.data.equals(big)).toBe(true);
    expect(messages[5]!.data.length).toBe(0);
    expect([...messages[6]!.data]).toEqual([5, 6]);
  });

  it('parses a frame split into single-byte chunks', () => {
    const frame = encodeFrame('y'.repeat(300));
    const chunks = [...frame].map((byte) => Buffer.from([byte]));
    const messages = receiveAll(chunks);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.binary).toBe(false);
    expect(messages[0]!.data.toString()).toBe('y'.repeat(300));
  });
});
