import { Buffer } from 'node:buffer';
import { Sender } from 'ws';

const TEXT = 0x1;
const BINARY = 0x2;

/**
 * Serialises and frames a message once, for every recipient: strings and bytes are sent as
 * they are (strings as text, bytes as binary unless `binary` says otherwise), any other value
 * as JSON text. The result is a complete unmasked server frame (RFC 6455 §5.2).
 */
export function encodeFrame(data: unknown, binary?: boolean): Buffer {
  let payload: Buffer;
  let isBinary: boolean;
  if (typeof data === 'string') {
    payload = Buffer.from(data, 'utf8');
    isBinary = binary ?? false;
  } else if (data instanceof Uint8Array) {
    payload = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    isBinary = binary ?? true;
  } else if (data instanceof ArrayBuffer) {
    payload = Buffer.from(data);
    isBinary = binary ?? true;
  } else {
    const json = JSON.stringify(data);
    if (json === undefined) throw new TypeError(`cannot send ${typeof data}: it has no JSON form`);
    payload = Buffer.from(json, 'utf8');
    isBinary = false;
  }
  const parts = Sender.frame(payload, {
    fin: true,
    rsv1: false,
    opcode: isBinary ? BINARY : TEXT,
    mask: false,
    readOnly: true,
  });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
