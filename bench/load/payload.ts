/**
 * Message payloads: "SEQ:T:" then filler up to exactly `size` bytes (ASCII). T is the sender's
 * performance.now() in ms (the publisher and the checkers share one process, so one clock);
 * the filler letter depends on SEQ, so a message that arrives mangled or swapped is caught.
 */
const MAX = 64 * 1024;
const FILL = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i).repeat(MAX));

export function makePayload(seq: number, size: number, t: number): string {
  const head = `${seq}:${t.toFixed(3)}:`;
  if (head.length > size) throw new Error(`payload of ${size} B is too small for its header`);
  return head + FILL[seq % 26]!.slice(0, size - head.length);
}

export interface Parsed {
  readonly seq: number;
  readonly t: number;
}

/** The sequence number and send time, or undefined if the text is not exactly what was sent. */
export function parsePayload(text: string, size: number): Parsed | undefined {
  if (text.length !== size) return undefined;
  const a = text.indexOf(':');
  const b = a < 0 ? -1 : text.indexOf(':', a + 1);
  if (b < 0) return undefined;
  const seq = Number(text.slice(0, a));
  const t = Number(text.slice(a + 1, b));
  if (!Number.isInteger(seq) || seq < 0 || !Number.isFinite(t)) return undefined;
  if (text.slice(b + 1) !== FILL[seq % 26]!.slice(0, size - b - 1)) return undefined;
  return { seq, t };
}
