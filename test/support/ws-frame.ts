import { Buffer } from 'node:buffer';

/** RFC 6455 opcodes. 0x3–0x7 and 0xB–0xF are reserved. */
export const Op = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/**
 * One WebSocket frame as a client would write it, with every field open to abuse: any
 * opcode, RSV bits, FIN, mask or none, a declared length that differs from the bytes that
 * follow, and the length in the 7-bit, 16-bit or 64-bit form (minimal or not).
 */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array;
  /** Default true. */
  readonly fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4). Default 0. */
  readonly rsv?: number;
  /** A 4-byte masking key, or false for an unmasked frame. Default: a fixed key. */
  readonly mask?: Uint8Array | false;
  /** The length written in the header; default the payload's. Up to 2^64 - 1. */
  readonly declaredLength?: number | bigint;
  /** Force the length form; default the minimal one for the declared length. */
  readonly lengthForm?: 7 | 16 | 64;
}

const DEFAULT_MASK = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

export function buildFrame(spec: FrameSpec): Buffer {
  const payload = Buffer.from(spec.payload ?? new Uint8Array(0));
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const form = spec.lengthForm ?? (declared <= 125n ? 7 : declared <= 0xffffn ? 16 : 64);
  const mask = spec.mask === false ? undefined : (spec.mask ?? DEFAULT_MASK);
  const b0 = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (form === 7) {
    header = Buffer.from([b0, maskBit | Number(declared & 0x7fn)]);
  } else if (form === 16) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(declared & 0xffffn), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(declared & 0xffff_ffff_ffff_ffffn, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, Buffer.from(mask), masked]);
}

export const textFrame = (text: string | Uint8Array, opts: Omit<FrameSpec, 'opcode' | 'payload'> = {}): Buffer =>
  buildFrame({ ...opts, opcode: Op.Text, payload: typeof text === 'string' ? Buffer.from(text, 'utf8') : text });

export const closeFrame = (
  code?: number,
  reason: Uint8Array = new Uint8Array(0),
  opts: Omit<FrameSpec, 'opcode' | 'payload'> = {},
): Buffer => {
  if (code === undefined) return buildFrame({ ...opts, opcode: Op.Close });
  const body = Buffer.alloc(2 + reason.length);
  body.writeUInt16BE(code, 0);
  body.set(reason, 2);
  return buildFrame({ ...opts, opcode: Op.Close, payload: body });
};

/** A message split into fragments at the given offsets: first frame `opcode`, then continuations, FIN on the last. */
export function fragments(
  opcode: number,
  payload: Uint8Array,
  cuts: readonly number[],
  opts: Omit<FrameSpec, 'opcode' | 'payload' | 'fin'> = {},
): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(payload.length, c))))].sort((a, b) => a - b);
  const bounds = [0, ...points.filter((p) => p > 0 && p < payload.length), payload.length];
  const out: Buffer[] = [];
  for (let i = 0; i < bounds.length - 1; i++) {
    out.push(
      buildFrame({
        ...opts,
        opcode: i === 0 ? opcode : Op.Continuation,
        fin: i === bounds.length - 2,
        payload: payload.subarray(bounds[i], bounds[i + 1]),
      }),
    );
  }
  return out;
}

/** A frame the server sent (RFC 6455 §5.2: never masked). */
export interface ServerFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
}

/** Parses whole server frames off the front of `buf`; returns them and the unconsumed rest. */
export function parseServerFrames(buf: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) break;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) break;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) head += 4;
    if (buf.length - at < head + len) break;
    let payload = Buffer.from(buf.subarray(at + head, at + head + len));
    if (masked) {
      const key = buf.subarray(at + head - 4, at + head);
      payload = Buffer.from(payload.map((b, i) => b ^ key[i & 3]!));
    }
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    at += head + len;
  }
  return { frames, rest: buf.subarray(at) };
}
