import { WebSocket } from 'ws';
import type { Hub } from '../../src/hub.js';
import { RawWs, type StreamEnd } from '../support/raw-ws.js';
import { buildFrame, closeFrame, Op, textFrame, type ServerFrame } from '../support/ws-frame.js';
import { whenCount, type Harness } from '../support/ws-client.js';
import type { Case, Ctx } from './arbitraries.js';
import { mismatch, ProtocolModel, type ExpectedJson } from './protocol-model.js';
import { isUtf8, WireModel } from './wire-model.js';

/** Every wait is bounded: a hang is reported as a failure with what was awaited, never as a stuck run. */
export const DEADLINE_MS = 20_000;

export function deadline<T>(p: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]);
}

/** A logger that counts errors: the hub may log only what the model predicts (encode failures). */
export class CountingLogger {
  errors = 0;
  readonly last: string[] = [];
  error(obj: unknown, msg?: string): void {
    this.errors++;
    this.last.push(`${msg ?? ''} ${String((obj as { err?: Error })?.err?.message ?? '')}`);
    if (this.last.length > 10) this.last.shift();
  }
  warn(): void {}
  info(): void {}
  debug(): void {}
}

/**
 * A well-behaved client connected for the whole run. After each case the hub broadcasts a
 * numbered probe; the bystander must receive every probe, in order, and never be closed.
 */
export class Bystander {
  seen = 0;
  readonly problems: string[] = [];
  #wake: (() => void) | undefined;
  #leaving = false;

  /** Closes the bystander at the end of the run (not a problem). */
  leave(): void {
    this.#leaving = true;
    this.ws.close();
  }

  private constructor(
    readonly ws: WebSocket,
    readonly id: string,
  ) {
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as {
        type: string;
        from?: string;
        topic?: string;
        data?: { probe?: unknown };
      };
      if (f.type === 'message' && f.from === undefined && f.topic === undefined && typeof f.data?.probe === 'number') {
        if (f.data.probe !== this.seen + 1) this.problems.push(`probe ${f.data.probe} after ${this.seen}`);
        this.seen = f.data.probe;
        this.#wake?.();
      }
    });
    ws.on('close', (code) => {
      if (this.#leaving) return;
      this.problems.push(`bystander closed with ${code}`);
      this.#wake?.();
    });
  }

  static connect(url: string): Promise<Bystander> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('error', reject);
      ws.once('message', (data: Buffer) =>
        resolve(new Bystander(ws, (JSON.parse(data.toString()) as { id: string }).id)),
      );
    });
  }

  /** Broadcasts the next probe and waits until the bystander has it. */
  async probe(hub: Hub): Promise<void> {
    const n = this.seen + 1;
    hub.broadcast({ probe: n });
    await deadline(
      new Promise<void>((resolve) => {
        const check = (): void => (this.seen >= n || this.problems.length > 0 ? resolve() : void (this.#wake = check));
        check();
      }),
      `probe ${n} at the bystander`,
    );
    if (this.problems.length > 0) throw new Error(`bystander affected: ${this.problems.join('; ')}`);
  }
}

export interface FuzzEnv {
  readonly harness: Harness;
  readonly bystander: Bystander;
  readonly logger: CountingLogger;
  /** Cases run, per category. */
  readonly counts: Map<string, number>;
  /** Answers checked, by kind: close codes, error codes, acks, pongs… */
  readonly answers: Map<string, number>;
  /** The bystander is probed after every `probeEvery` open cases, and after every connection. */
  readonly probeEvery: number;
  sinceProbe: number;
  /** unhandledRejection / uncaughtException seen in this process. */
  readonly processErrors: unknown[];
}

export type Expected = { kind: 'json'; frame: ExpectedJson; bytes: number } | { kind: 'pong'; data: Buffer };
export type Got =
  | { kind: 'json'; value: unknown }
  | { kind: 'pong'; data: Buffer }
  | { kind: 'close'; code: number | undefined }
  | StreamEnd;

/** Above this many reply bytes in one case the outbound queue may hold frames back (pongs overtake) or overflow (4008). */
const QUEUE_FREE_BYTES = 48 * 1024;

const isProbe = (v: unknown): boolean => {
  const f = v as { type?: string; from?: string; topic?: string; data?: { probe?: unknown } };
  return f.type === 'message' && f.from === undefined && f.topic === undefined && typeof f.data?.probe === 'number';
};

/** Reads server frames until `stop` says so (or the stream ends / a close frame arrives). */
export async function readUntil(ws: RawWs, stop: (g: Got) => boolean, what: string): Promise<Got[]> {
  const got: Got[] = [];
  for (;;) {
    const f = await deadline(ws.next(), what);
    let g: Got;
    if ('kind' in f) g = f;
    else {
      const bad = serverFrameProblem(f);
      if (bad) throw new Error(`server sent a malformed frame: ${bad}`);
      if (f.opcode === Op.Ping) continue; // the hub's heartbeat
      if (f.opcode === Op.Pong) g = { kind: 'pong', data: f.payload };
      else if (f.opcode === Op.Close)
        g = { kind: 'close', code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined };
      else {
        const value = JSON.parse(f.payload.toString('utf8')) as unknown;
        if (isProbe(value)) continue;
        g = { kind: 'json', value };
      }
    }
    got.push(g);
    if (g.kind === 'end' || g.kind === 'close' || stop(g)) return got;
  }
}

function serverFrameProblem(f: ServerFrame): string | undefined {
  if (f.masked) return 'masked server frame';
  if (f.rsv !== 0) return `RSV ${f.rsv}`;
  if (!f.fin) return 'fragmented server frame';
  if (![Op.Text, Op.Close, Op.Ping, Op.Pong].includes(f.opcode as 1)) return `opcode ${f.opcode}`;
  if (f.opcode === Op.Text && !isUtf8(f.payload)) return 'text frame not UTF-8';
  return undefined;
}

export const show = (x: unknown): string => {
  const s =
    JSON.stringify(x, (_k, v: unknown) =>
      Buffer.isBuffer(v)
        ? `<${v.length} bytes>`
        : v && typeof v === 'object' && 'type' in v && (v as { type: string }).type === 'Buffer'
          ? '<bytes>'
          : v,
    ) ?? 'undefined';
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

/**
 * Checks what came back against the model. In order, exactly, while no outbound queueing is
 * possible; with more reply bytes than that, pongs may overtake queued frames and a close
 * may cut the queue short (docs/errors.md), so each stream must be a prefix (exact if synced).
 */
export function compare(got: Got[], expected: Expected[], ending: 'sync' | 'close' | 'end'): string | undefined {
  const replies = got.filter(
    (g): g is Extract<Got, { kind: 'json' | 'pong' }> => g.kind === 'json' || g.kind === 'pong',
  );
  const big = expected.reduce((n, e) => n + (e.kind === 'json' ? e.bytes : e.data.length + 2), 0) > QUEUE_FREE_BYTES;
  const same = (g: Got, e: Expected): string | undefined =>
    g.kind !== e.kind
      ? `got ${g.kind}, expected ${e.kind}`
      : g.kind === 'pong'
        ? Buffer.compare(g.data, (e as { data: Buffer }).data) === 0
          ? undefined
          : 'pong payload differs'
        : mismatch((g as { value: unknown }).value, (e as { frame: ExpectedJson }).frame);
  const streams: [Got[], Expected[]][] = big
    ? [
        [replies.filter((g) => g.kind === 'json'), expected.filter((e) => e.kind === 'json')],
        [replies.filter((g) => g.kind === 'pong'), expected.filter((e) => e.kind === 'pong')],
      ]
    : [[replies, expected]];
  for (const [g, e] of streams) {
    const prefixOk = big && ending === 'close';
    if (g.length > e.length || (!prefixOk && g.length < e.length)) {
      return `got ${g.length} replies, expected ${e.length}: got ${show(g)} expected ${show(e)}`;
    }
    for (let i = 0; i < g.length; i++) {
      const why = same(g[i]!, e[i]!);
      if (why) return `reply ${i}: ${why}; got ${show(g[i])} expected ${show(e[i])}`;
    }
  }
  return undefined;
}

export function tally(env: FuzzEnv, got: Got[]): void {
  for (const g of got) {
    const key =
      g.kind === 'json'
        ? (g.value as { type: string; code?: string }).type === 'error'
          ? `error ${(g.value as { code: string }).code}`
          : (g.value as { type: string }).type
        : g.kind === 'close'
          ? `close ${g.code ?? '(empty)'}`
          : g.kind === 'end'
            ? 'end of stream (partial frame)'
            : 'pong';
    env.answers.set(key, (env.answers.get(key) ?? 0) + 1);
  }
}

const estimateBytes = (f: ExpectedJson, inputBytes: number): number =>
  f.type === 'message'
    ? f.dataJson.length + 100
    : f.type === 'error'
      ? (f.message?.length ?? inputBytes) + 150
      : JSON.stringify(f).length + 20;

/**
 * One connection: a real handshake, then the cases in order until one closes the connection.
 * After each case the model's expected replies are compared with what came back, the
 * bystander must get its probe, and at the end the client must be unregistered.
 */
export async function runSession(env: FuzzEnv, cases: readonly Case[]): Promise<void> {
  const { hub, port } = env.harness;
  const baseline = hub.size;
  const loggedBefore = env.logger.errors;
  let expectedLogged = 0;
  const ws = await deadline(RawWs.connect(port, hub.options.path), 'handshake');
  try {
    const welcome = await deadline(ws.next(), 'welcome');
    if ('kind' in welcome) throw new Error('closed before the welcome');
    const selfId = (JSON.parse(welcome.payload.toString()) as { id: string }).id;
    const ctx: Ctx = { selfId, bystanderId: env.bystander.id, maxPayload: hub.options.maxPayload };
    const wire = new WireModel(hub.options.maxPayload);
    const proto = new ProtocolModel(
      {
        maxTopicLength: hub.options.topics.maxTopicLength,
        maxTopicsPerClient: hub.options.topics.maxTopicsPerClient,
        maxBadFrames: hub.options.maxBadFrames,
      },
      selfId,
      env.bystander.id,
    );
    let open = true;
    let sync = 0;
    for (const c of cases) {
      const writes = c.build(ctx);
      const expected: Expected[] = [];
      let close: { code: number | undefined; by: 'client' | 'server' } | undefined;
      for (const w of writes) {
        for (const ev of close ? [] : wire.feed(w)) {
          if (ev.t === 'message') {
            const a = ev.binary ? proto.binary() : proto.text(ev.data.toString('utf8'));
            expected.push(
              ...a.frames.map((frame): Expected => ({
                kind: 'json',
                frame,
                bytes: estimateBytes(frame, ev.data.length),
              })),
            );
            expectedLogged += a.loggedErrors;
            if (a.close) close = { code: a.close, by: 'server' };
          } else if (ev.t === 'ping') expected.push({ kind: 'pong', data: ev.data });
          else if (ev.t === 'close') close = { code: ev.code, by: 'client' };
          else if (ev.t === 'fail') close = { code: ev.code, by: 'server' };
          if (close) break;
        }
        ws.write(w);
      }
      env.counts.set(c.category, (env.counts.get(c.category) ?? 0) + 1);
      const where = `case ${c.category}: ${c.label}`;
      if (close) {
        const got = await readUntil(ws, () => false, `close frame after ${where}`);
        const last = got.at(-1)!;
        const code = last.kind === 'close' ? last.code : undefined;
        const overflowed = last.kind === 'close' && code === 4008;
        if (last.kind !== 'close')
          throw new Error(
            `${where}: expected close ${close.code ?? '(empty)'}, the stream ended instead (${show(got)})`,
          );
        if (code !== close.code && !(overflowed && compare(got, expected, 'close') === undefined)) {
          throw new Error(
            `${where}: expected close ${close.code ?? '(empty)'}, got ${code ?? '(empty)'}; replies ${show(got)}`,
          );
        }
        const why = compare(got, expected, 'close');
        if (why) throw new Error(`${where}: ${why}`);
        tally(env, got);
        if (close.by === 'server') ws.answerClose(code);
        else ws.end();
        open = false;
        break;
      }
      if (wire.midFrame) {
        // The case stopped inside a frame: the server must wait quietly, then let the client go.
        ws.end();
        const got = await readUntil(ws, () => false, `end of stream after ${where}`);
        if (got.at(-1)!.kind !== 'end')
          throw new Error(`${where}: unexpected close after a partial frame: ${show(got)}`);
        const why = compare(got, expected, 'sync');
        if (why) throw new Error(`${where}: ${why}`);
        tally(env, got);
        open = false;
        break;
      }
      // Sync: an answer to something sent after the case proves every reply to the case has come.
      const tag = `~sync:${++sync}`;
      const inMessage = wire.fragmented !== 0;
      const syncBytes = inMessage
        ? buildFrame({ opcode: Op.Ping, payload: Buffer.from(tag) })
        : textFrame(`{"type":"ping","ref":"${tag}"}`);
      wire.feed(syncBytes);
      ws.write(syncBytes);
      const got = await readUntil(
        ws,
        (g) =>
          inMessage
            ? g.kind === 'pong' && g.data.toString() === tag
            : g.kind === 'json' && (g.value as { ref?: unknown }).ref === tag,
        `sync after ${where}`,
      );
      const last = got.at(-1)!;
      if (last.kind === 'close' && last.code === 4008 && compare(got, expected, 'close') === undefined) {
        tally(env, got);
        ws.answerClose(4008); // a legitimate slow-consumer close: the replies overflowed the outbound queue
        open = false;
        break;
      }
      if (last.kind === 'close' || last.kind === 'end')
        throw new Error(
          `${where}: the connection closed (${show(last)}) where the model expected it open; replies ${show(got)}`,
        );
      const why = compare(got.slice(0, -1), expected, 'sync');
      if (why) throw new Error(`${where}: ${why}`);
      tally(env, got.slice(0, -1));
      if (++env.sinceProbe >= env.probeEvery) {
        env.sinceProbe = 0;
        await env.bystander.probe(hub);
      }
    }
    if (open) {
      ws.write(closeFrame(1000));
      const got = await readUntil(ws, () => false, 'close echo');
      const last = got.at(-1)!;
      if (last.kind !== 'close' || last.code !== 1000 || got.length !== 1)
        throw new Error(`normal close: expected only the 1000 echo, got ${show(got)}`);
      ws.end();
    }
    await deadline(ws.closed, 'socket close');
  } finally {
    ws.destroy();
  }
  await deadline(
    whenCount(hub, (n) => n === baseline),
    `client unregistered (size ${hub.size}, baseline ${baseline})`,
  );
  if (hub.topics().length > 0) throw new Error(`topics left behind: ${show(hub.topics())}`);
  await env.bystander.probe(hub);
  if (env.processErrors.length > 0) throw new Error(`uncaught in the process: ${show(env.processErrors.map(String))}`);
  if (env.logger.errors - loggedBefore !== expectedLogged) {
    throw new Error(
      `hub logged ${env.logger.errors - loggedBefore} errors, the model expected ${expectedLogged}: ${env.logger.last.join(' | ')}`,
    );
  }
  if (hub.stats.hookErrors !== 0) throw new Error(`hookErrors ${hub.stats.hookErrors}`);
  if (hub.actor.getSnapshot().status !== 'active') throw new Error(`hub actor is ${hub.actor.getSnapshot().status}`);
}
