import { Buffer } from 'node:buffer';

/** What the server's WebSocket layer makes of the client's bytes, event by event. */
export type WireEvent =
  | { readonly t: 'message'; readonly binary: boolean; readonly data: Buffer }
  | { readonly t: 'ping'; readonly data: Buffer }
  | { readonly t: 'pong' }
  /** A valid close frame from the client: the server echoes it (code undefined: an empty close). */
  | { readonly t: 'close'; readonly code: number | undefined }
  /** A violation: the server closes with this code (docs/errors.md). */
  | { readonly t: 'fail'; readonly code: 1002 | 1007 | 1009; readonly why: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
export const isUtf8 = (b: Uint8Array): boolean => {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
};

/** RFC 6455 §7.4: codes a peer may send in a close frame (1004–1006 and 1015 are reserved; 1012–1014 registered later). */
export const isSendableCloseCode = (code: number): boolean =>
  (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);

/**
 * An independent model of the server's frame parser (RFC 6455 §5, as the hub documents it in
 * docs/errors.md: protocol violations → 1002, invalid UTF-8 → 1007, over maxPayload → 1009).
 * It decides from the bytes alone, in the order a streaming parser sees them: a header that
 * is already wrong fails before its payload arrives.
 */
export class WireModel {
  #buf: Buffer = Buffer.alloc(0);
  /** Opcode of the fragmented message in progress, 0 when none. */
  fragmented = 0;
  #fragments: Buffer[] = [];
  #total = 0;
  /** A close or a failure was reached: later bytes are ignored. */
  done = false;

  constructor(readonly maxPayload: number) {}

  /** Bytes of an incomplete frame are buffered. */
  get midFrame(): boolean {
    return this.#buf.length > 0;
  }

  feed(bytes: Uint8Array): WireEvent[] {
    const out: WireEvent[] = [];
    if (this.done) return out;
    this.#buf = Buffer.concat([this.#buf, bytes]);
    for (;;) {
      const r = this.#step();
      if (r === 'more') break;
      if (r !== 'consumed') out.push(r);
      if (r !== 'consumed' && (r.t === 'fail' || r.t === 'close')) {
        this.done = true;
        this.#buf = Buffer.alloc(0);
        break;
      }
    }
    return out;
  }

  #fail(code: 1002 | 1007 | 1009, why: string): WireEvent {
    return { t: 'fail', code, why };
  }

  /** One frame off the front of the buffer: an event, 'consumed' (no event), or 'more' (incomplete). */
  #step(): WireEvent | 'consumed' | 'more' {
    const b = this.#buf;
    if (b.length < 2) return 'more';
    const fin = (b[0]! & 0x80) !== 0;
    const rsv = (b[0]! >> 4) & 7;
    let opcode = b[0]! & 0x0f;
    const masked = (b[1]! & 0x80) !== 0;
    const len7 = b[1]! & 0x7f;
    const control = opcode >= 0x8;
    if (rsv !== 0) return this.#fail(1002, 'RSV bits set (no extension negotiated)');
    if (opcode === 0) {
      if (!this.fragmented) return this.#fail(1002, 'continuation without a message to continue');
      opcode = this.fragmented;
    } else if (opcode === 1 || opcode === 2) {
      if (this.fragmented) return this.#fail(1002, 'new data frame inside a fragmented message');
    } else if (opcode >= 8 && opcode <= 10) {
      if (!fin) return this.#fail(1002, 'fragmented control frame');
      if (len7 > 125) return this.#fail(1002, 'control frame over 125 bytes');
      if (opcode === 8 && len7 === 1) return this.#fail(1002, 'close frame with a 1-byte body');
    } else {
      return this.#fail(1002, `reserved opcode ${opcode}`);
    }
    if (!masked) return this.#fail(1002, 'unmasked client frame');
    let at = 2;
    let len = len7;
    if (len7 === 126) {
      if (b.length < 4) return 'more';
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len7 === 127) {
      if (b.length < 10) return 'more';
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.#fail(1009, 'length beyond 2^53 - 1');
      len = Number(big);
      at = 10;
    }
    if (!control && len > 0 && this.#total + len > this.maxPayload) return this.#fail(1009, 'message over maxPayload');
    if (b.length < at + 4 + len) return 'more';
    const key = b.subarray(at, at + 4);
    const data = Buffer.from(b.subarray(at + 4, at + 4 + len));
    for (let i = 0; i < data.length; i++) data[i] = data[i]! ^ key[i & 3]!;
    this.#buf = b.subarray(at + 4 + len);
    if (opcode === 8) {
      if (data.length === 0) return { t: 'close', code: undefined };
      const code = data.readUInt16BE(0);
      if (!isSendableCloseCode(code)) return this.#fail(1002, `close code ${code} may not be sent`);
      if (!isUtf8(data.subarray(2))) return this.#fail(1007, 'close reason is not UTF-8');
      return { t: 'close', code };
    }
    if (opcode === 9) return { t: 'ping', data };
    if (opcode === 10) return { t: 'pong' };
    this.#total += len;
    if (data.length > 0) this.#fragments.push(data);
    if (!fin) {
      this.fragmented = opcode;
      return 'consumed';
    }
    const message = Buffer.concat(this.#fragments);
    this.fragmented = 0;
    this.#fragments = [];
    this.#total = 0;
    if (opcode === 1 && !isUtf8(message)) return this.#fail(1007, 'text message is not UTF-8');
    return { t: 'message', binary: opcode === 2, data: message };
  }
}
