/**
 * docs/reliability.md item 4: several publishers send numbered messages through a hub to several
 * receivers, real `ws` clients on both sides; every receiver records, per publisher, which
 * numbers it saw and in what order. Used at reduced size by test/reliability/ordering.test.ts
 * and at full size (1M messages) by bench/ordering.ts.
 *
 * Publishers are paced by a window: publisher p sends its message n only once every receiver
 * has received n - window of its messages. That keeps the run within the receivers' default
 * outbound queue (the overflow policy would otherwise rightly close them: they would not be
 * the "healthy clients" the guarantee speaks of), and it does not hide loss: a lost message
 * is never received, so the run ends with a gap, not a stall (see `idleMs`).
 */
import { WebSocket } from 'ws';

export interface OrderedStreamOptions {
  readonly url: string;
  readonly protocol: 'json' | 'relay';
  readonly publishers: number;
  readonly perPublisher: number;
  readonly receivers: number;
  /** Messages per publisher in flight at most (default 64). */
  readonly window?: number;
  /** Resolves once the hub has registered `n` clients (relay sends no welcome frame). */
  readonly whenRegistered: (n: number) => Promise<void>;
  /** The run ends when every message arrived, or when nothing arrived for this long (default 5 s). */
  readonly idleMs?: number;
}

export interface OrderedStreamReport {
  /** Messages published (publishers × perPublisher). */
  readonly messages: number;
  /** Deliveries expected: messages × receivers. */
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Messages that arrived after a higher number from the same publisher. */
  readonly reordered: number;
  /** Frames a receiver could not read as "p:n". */
  readonly corrupt: number;
  /** Receivers the hub closed during the run. */
  readonly closed: number;
  readonly ms: number;
}

const TOPIC = 'order';

/** A ws client whose text frames go to `onText`; those that arrive before it is set wait in `early`. */
interface Conn {
  readonly ws: WebSocket;
  onText: ((text: string) => void) | undefined;
  readonly early: string[];
}

function open(url: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const conn: Conn = { ws, onText: undefined, early: [] };
    // Listen at once: a frame sent right after the upgrade (welcome) can arrive before `open`'s awaiter runs.
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (conn.onText) conn.onText(text);
      else conn.early.push(text);
    });
    ws.once('open', () => resolve(conn));
    ws.once('error', reject);
  });
}

/** The next text frame, parsed (JSON protocol set-up only). */
function nextJson(conn: Conn): Promise<{ type: string }> {
  const early = conn.early.shift();
  if (early !== undefined) return Promise.resolve(JSON.parse(early) as { type: string });
  return new Promise((resolve) => {
    conn.onText = (text) => {
      conn.onText = undefined;
      resolve(JSON.parse(text) as { type: string });
    };
  });
}

class Receiver {
  readonly seen: Uint8Array[];
  readonly count: number[];
  readonly high: number[];
  total = 0;
  duplicated = 0;
  reordered = 0;
  corrupt = 0;
  closed = false;

  constructor(
    publishers: number,
    perPublisher: number,
    private readonly onProgress: () => void,
  ) {
    this.seen = Array.from({ length: publishers }, () => new Uint8Array(perPublisher));
    this.count = new Array<number>(publishers).fill(0);
    this.high = new Array<number>(publishers).fill(-1);
  }

  take(text: string): void {
    const colon = text.indexOf(':');
    const p = Number(text.slice(0, colon));
    const n = Number(text.slice(colon + 1));
    const seen = this.seen[p];
    if (colon < 0 || !seen || !Number.isInteger(n) || n < 0 || n >= seen.length) {
      this.corrupt++;
      return;
    }
    if (seen[n]) {
      this.duplicated++;
      return;
    }
    seen[n] = 1;
    if (n < this.high[p]!) this.reordered++;
    else this.high[p] = n;
    this.count[p]!++;
    this.total++;
    this.onProgress();
  }
}

export async function runOrderedStream(options: OrderedStreamOptions): Promise<OrderedStreamReport> {
  const { url, protocol, publishers: P, perPublisher: K, receivers: R } = options;
  const window = options.window ?? 64;
  const idleMs = options.idleMs ?? 5_000;
  let wake: (() => void) | undefined;
  const progress = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const receivers = Array.from({ length: R }, () => new Receiver(P, K, progress));
  const sockets: WebSocket[] = [];
  try {
    for (const receiver of receivers) {
      const conn = await open(url);
      sockets.push(conn.ws);
      if (protocol === 'json') {
        await nextJson(conn); // welcome
        const ack = nextJson(conn);
        conn.ws.send(JSON.stringify({ type: 'subscribe', topic: TOPIC, ref: 1 }));
        if ((await ack).type !== 'ack') throw new Error('subscribe was not acknowledged');
        // {"type":"message","topic":"order","from":"…","data":"p:n"}: the data is the last field.
        conn.onText = (s) => receiver.take(s.slice(s.lastIndexOf('"data":"') + 8, -2));
      } else {
        conn.onText = (s) => receiver.take(s);
      }
      conn.ws.once('close', () => ((receiver.closed = true), progress()));
    }
    const pubs: WebSocket[] = [];
    for (let p = 0; p < P; p++) {
      const conn = await open(url);
      sockets.push(conn.ws);
      pubs.push(conn.ws);
      // Relay: publishers receive each other's messages too; they are read and discarded.
      conn.onText = () => undefined;
    }
    await options.whenRegistered(R + P);

    const expected = P * K;
    const started = performance.now();
    const sent = new Array<number>(P).fill(0);
    const minCount = (p: number): number =>
      receivers.reduce((m, r) => Math.min(m, r.count[p]!), Number.POSITIVE_INFINITY);
    const frame =
      protocol === 'json'
        ? (p: number, n: number) => `{"type":"publish","topic":"${TOPIC}","data":"${p}:${n}"}`
        : (p: number, n: number) => `${p}:${n}`;
    let lastProgress = performance.now();
    let lastTotal = 0;
    for (;;) {
      let allSent = true;
      for (let p = 0; p < P; p++) {
        const limit = Math.min(K, minCount(p) + window);
        while (sent[p]! < limit) pubs[p]!.send(frame(p, sent[p]!++));
        if (sent[p]! < K) allSent = false;
      }
      const total = receivers.reduce((s, r) => s + r.total, 0);
      if (total !== lastTotal) {
        lastTotal = total;
        lastProgress = performance.now();
      }
      if ((allSent && total === expected * R) || receivers.some((r) => r.closed)) break;
      if (performance.now() - lastProgress > idleMs) break; // a gap: something was lost
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(progress, 50).unref();
      });
    }
    const ms = performance.now() - started;
    const delivered = receivers.reduce((s, r) => s + r.total, 0);
    return {
      messages: expected,
      expected: expected * R,
      delivered,
      lost: expected * R - delivered,
      duplicated: receivers.reduce((s, r) => s + r.duplicated, 0),
      reordered: receivers.reduce((s, r) => s + r.reordered, 0),
      corrupt: receivers.reduce((s, r) => s + r.corrupt, 0),
      closed: receivers.filter((r) => r.closed).length,
      ms,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}
