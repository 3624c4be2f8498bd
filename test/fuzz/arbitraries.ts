import fc from 'fast-check';
import { buildFrame, closeFrame, fragments, Op, type FrameSpec } from '../support/ws-frame.js';
import { DEEP_FAILS, DEEP_OK, TYPES } from './protocol-model.js';

/** What a case needs to know about the live connection to build its bytes. */
export interface Ctx {
  readonly selfId: string;
  readonly bystanderId: string;
  readonly maxPayload: number;
}

/** One generated case: a category (for the counts) and the writes it makes on the socket. */
export interface Case {
  readonly category: string;
  readonly label: string;
  build(ctx: Ctx): Buffer[];
}

const mk = (category: string, label: string, build: (ctx: Ctx) => Buffer[]): Case =>
  ({
    category,
    label,
    build,
    [fc.toStringMethod]: () => `${category}: ${label}`,
  }) as Case;

const short = (s: string, n = 80): string => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);

// ---------------------------------------------------------------- JSON values and commands

/** A recipient named symbolically: the real ids are only known once connected. */
type Who = { who: 'self' } | { who: 'bystander' } | { who: 'other'; id: unknown };
const SELF = '\u0000self\u0000';
const BYSTANDER = '\u0000bystander\u0000';

/** Any UTF-16 unit or astral code point, lone surrogates included (cheaper to build than unit: 'binary'). */
const anyChar = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);

const goodTopic = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('t0', 't1', 't2', 'room:1', 'a/b@c-d.e_f') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:/@-]{1,128}$/) },
);
const badTopic = fc.oneof(
  fc.constant(''),
  fc.constant('x'.repeat(129)),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('a b', 'é', 't\u0000', '../x'),
);
const goodRef = fc.oneof(
  fc.string({ maxLength: 64, unit: anyChar }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const badRef = fc.oneof(
  fc.string({ minLength: 65, maxLength: 80 }),
  fc.constantFrom(null, true, [], {}, Infinity as unknown),
);
/** Mostly well-formed, sometimes not: the model decides which. */
const topicArb = fc.oneof({ weight: 9, arbitrary: goodTopic }, { weight: 1, arbitrary: badTopic });
const refArb = fc.oneof({ weight: 9, arbitrary: goodRef }, { weight: 1, arbitrary: badRef });
const dataArb = fc.jsonValue({ maxDepth: 3 });
const anyJson = fc.jsonValue({ maxDepth: 2 });
const goodWho: fc.Arbitrary<Who> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Who>({ who: 'self' }) },
  { weight: 1, arbitrary: fc.constant<Who>({ who: 'bystander' }) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map((id): Who => ({ who: 'other', id })) },
);
const whoArb: fc.Arbitrary<Who> = fc.oneof(
  { weight: 4, arbitrary: goodWho },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 300 }), anyJson).map((id): Who => ({ who: 'other', id })) },
);

/** A command as generated: entries in a chosen order, maybe wrong, maybe with extras. */
type Entries = [string, unknown][];

const commandOf = (
  topic: fc.Arbitrary<string>,
  ref: fc.Arbitrary<unknown>,
  to: fc.Arbitrary<Who>,
): fc.Arbitrary<Entries> =>
  fc
    .record({
      type: fc.constantFrom(...TYPES),
      topic,
      data: dataArb,
      echo: fc.option(fc.boolean(), { nil: undefined }),
      to,
      ref: fc.option(ref, { nil: undefined }),
      reverse: fc.boolean(),
    })
    .map(({ type, topic, data, echo, to, ref, reverse }) => {
      const e: Entries = [['type', type]];
      if (type !== 'ping' && type !== 'send') e.push(['topic', topic]);
      if (type === 'publish' || type === 'send') e.push(['data', data]);
      if (type === 'publish' && echo !== undefined) e.push(['echo', echo]);
      if (type === 'send') e.push(['to', to]);
      if (ref !== undefined) e.push(['ref', ref]);
      return reverse ? e.reverse() : e;
    });
const commandArb = commandOf(topicArb, refArb, whoArb);
const goodCommandArb = commandOf(goodTopic, goodRef, goodWho);

const KEYS = ['type', 'topic', 'data', 'echo', 'to', 'ref', '__proto__', 'constructor', 'extra'];
/** Breaks a command: a field replaced by any JSON value, deleted, or an extra key added. */
const brokenCommandArb: fc.Arbitrary<Entries> = fc
  .tuple(
    commandArb,
    fc.array(fc.tuple(fc.constantFrom('replace', 'delete', 'add'), fc.constantFrom(...KEYS), anyJson), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([entries, edits]) => {
    const e = entries.slice();
    for (const [op, key, value] of edits) {
      const i = e.findIndex(([k]) => k === key);
      if (op === 'delete' && i >= 0) e.splice(i, 1);
      else if (op === 'replace' && i >= 0) e[i] = [key, value];
      else if (op === 'add') e.push([key, value]);
    }
    return e;
  });

const jsonKey = (k: string): string => JSON.stringify(k);
/** Serialises entries as JSON text, keeping duplicate keys and resolving symbolic recipients. */
function entriesText(entries: Entries, ctx: Ctx, space = false): string {
  const parts = entries.map(([k, v]) => {
    const value =
      v && typeof v === 'object' && 'who' in v
        ? (v as Who).who === 'self'
          ? ctx.selfId
          : (v as Who).who === 'bystander'
            ? ctx.bystanderId
            : (v as unknown as { id: unknown }).id
        : v;
    return `${jsonKey(k)}:${JSON.stringify(value, null, space ? 1 : undefined) ?? 'null'}`;
  });
  return `{${parts.join(space ? ', ' : ',')}}`;
}
const entriesLabel = (e: Entries): string =>
  short(entriesText(e, { selfId: SELF, bystanderId: BYSTANDER, maxPayload: 0 }), 120);

// ---------------------------------------------------------------- delivering a message

/** How a message's bytes go out: one frame or fragments, pings between them, split writes. */
interface Delivery {
  readonly cuts: number[];
  readonly emptyFragments: boolean;
  readonly pings: Uint8Array[];
  readonly splits: number[];
}
const deliveryArb: fc.Arbitrary<Delivery> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Delivery>({ cuts: [], emptyFragments: false, pings: [], splits: [] }) },
  {
    weight: 2,
    arbitrary: fc.record({
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
      emptyFragments: fc.boolean(),
      pings: fc.array(fc.uint8Array({ maxLength: 125 }), { maxLength: 3 }),
      splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
    }),
  },
);

/** Frames a message per the delivery: fragments (maybe empty ones), pings interleaved, then split into writes. */
function deliver(opcode: number, payload: Uint8Array, d: Delivery): Buffer[] {
  let frames = fragments(
    opcode,
    payload,
    d.cuts.map((c) => Math.floor(c * payload.length)),
  );
  if (d.emptyFragments) {
    // An empty continuation inside the message: legal, and easy to get wrong.
    if (frames.length === 1)
      frames = [buildFrame({ opcode, fin: false, payload }), buildFrame({ opcode: Op.Continuation })];
    else frames.splice(frames.length - 1, 0, buildFrame({ opcode: Op.Continuation, fin: false }));
  }
  const out: Buffer[] = [];
  frames.forEach((f, i) => {
    out.push(f);
    const ping = d.pings[i];
    if (ping && i < frames.length - 1) out.push(buildFrame({ opcode: Op.Ping, payload: ping }));
  });
  return splitWrites(Buffer.concat(out), d.splits);
}

function splitWrites(bytes: Buffer, splits: readonly number[]): Buffer[] {
  const points = [...new Set(splits.map((s) => Math.floor(s * bytes.length)))]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

const textCase = (category: string, label: string, text: (ctx: Ctx) => string | Uint8Array, d: Delivery): Case =>
  mk(category, label, (ctx) => {
    const t = text(ctx);
    return deliver(Op.Text, typeof t === 'string' ? Buffer.from(t, 'utf8') : t, d);
  });

// ---------------------------------------------------------------- JSON-level cases (the connection stays open)

export const validCommand = fc
  .tuple(commandArb, deliveryArb, fc.boolean())
  .map(([e, d, space]) => textCase('valid-command', entriesLabel(e), (ctx) => entriesText(e, ctx, space), d));

export const wrongFieldTypes = fc
  .tuple(brokenCommandArb, deliveryArb)
  .map(([e, d]) => textCase('wrong-field-types', entriesLabel(e), (ctx) => entriesText(e, ctx), d));

export const unknownCommand = fc
  .tuple(
    fc.oneof(
      fc.string({ maxLength: 20 }).filter((s) => !(TYPES as readonly string[]).includes(s)),
      anyJson,
      fc.constantFrom('toString', '__proto__', 'PING', 'ping ', 'constructor'),
    ),
    fc.option(refArb, { nil: undefined }),
    fc.boolean(),
    deliveryArb,
  )
  .map(([type, ref, omit, d]) => {
    const e: Entries = omit ? [] : [['type', type]];
    if (ref !== undefined) e.push(['ref', ref]);
    return textCase('unknown-command', entriesLabel(e), (ctx) => entriesText(e, ctx), d);
  });

export const notAnObject = fc
  .tuple(
    fc.oneof(fc.array(anyJson, { maxLength: 4 }), fc.double(), fc.string(), fc.constantFrom(null, true, false, 0)),
    deliveryArb,
  )
  .map(([v, d]) => textCase('not-an-object', short(JSON.stringify(v)), () => JSON.stringify(v), d));

export const malformedJson = fc
  .tuple(
    fc.oneof(
      fc.string({ maxLength: 60, unit: anyChar }),
      fc
        .tuple(
          commandArb,
          fc.nat(),
          fc.constantFrom('cut', 'insert', 'delete'),
          fc.string({ minLength: 1, maxLength: 2 }),
        )
        .map(([e, at, op, s]) => ({ e, at, op, s })),
      fc.constantFrom(
        '{',
        '{bad',
        '[1,]',
        '{"type":"ping",}',
        "{'type':'ping'}",
        '\ufeff{"type":"ping"}',
        'NaN',
        '{"type":"ping"}{"type":"ping"}',
        '',
        ' ',
      ),
    ),
    deliveryArb,
  )
  .map(([m, d]) => {
    if (typeof m === 'string') return textCase('malformed-json', short(JSON.stringify(m)), () => m, d);
    const { e, at, op, s } = m;
    const mutate = (t: string): string => {
      const i = at % (t.length + 1);
      return op === 'cut'
        ? t.slice(0, i)
        : op === 'insert'
          ? t.slice(0, i) + s + t.slice(i)
          : t.slice(0, i) + t.slice(i + 1);
    };
    return textCase('malformed-json', `${op}@${at} ${entriesLabel(e)}`, (ctx) => mutate(entriesText(e, ctx)), d);
  });

/** Nested arrays or objects, either shallow enough to serialise or far too deep to. */
export const deepJson = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: DEEP_OK }), fc.integer({ min: DEEP_FAILS, max: DEEP_FAILS + 500 })),
    fc.constantFrom('[', '{'),
    fc.constantFrom('type', 'topic', 'data', 'ref', 'to', 'echo', 'whole'),
    fc.constantFrom<'publish' | 'send'>('publish', 'send'),
    fc.boolean(),
  )
  .map(([depth, shape, where, type, echo]) => {
    const open = shape === '[' ? '[' : '{"":';
    const close = shape === '[' ? ']' : '}';
    const nest = (leaf: string): string => open.repeat(depth) + leaf + close.repeat(depth);
    const deep = nest(shape === '[' ? '' : '0');
    return textCase(
      'deep-json',
      `${shape}×${depth} in ${where} (${type}${echo ? ', echo' : ''})`,
      (ctx) => {
        if (where === 'whole') return deep;
        const f: Record<string, string> = {
          type: JSON.stringify(type),
          topic: '"t0"',
          data: '1',
          ...(type === 'send' ? { to: JSON.stringify(ctx.selfId) } : {}),
          ...(echo ? { echo: 'true' } : {}),
          ref: '"deep"',
        };
        f[where] = deep;
        return `{${Object.entries(f)
          .map(([k, v]) => `"${k}":${v}`)
          .join(',')}}`;
      },
      { cuts: [], emptyFragments: false, pings: [], splits: [] },
    );
  });

/**
 * publish / send whose data holds number literals at JSON's edge: beyond ±1.8e308 (parsed as
 * ±Infinity, which must be refused, not relayed as null), just inside it, or underflowing to 0.
 */
export const edgeNumbers = fc
  .tuple(
    fc.array(
      fc.constantFrom(
        '1e999',
        '-1E+400',
        '1e0309',
        '9'.repeat(309),
        '1.7976931348623157e308',
        '1e-999',
        '0.5',
        '"1e999"',
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.constantFrom<'publish' | 'send'>('publish', 'send'),
    fc.boolean(),
    deliveryArb,
  )
  .map(([literals, type, nest, d]) =>
    textCase(
      'edge-numbers',
      `${type} ${literals.map((l) => short(l)).join(',')}`,
      (ctx) => {
        const data = nest ? `{"a":[${literals.join(',')}]}` : `[${literals.join(',')}]`;
        const target = type === 'send' ? `"to":${JSON.stringify(ctx.selfId)}` : '"topic":"t0","echo":true';
        return `{"type":"${type}",${target},"data":${data},"ref":"edge"}`;
      },
      d,
    ),
  );

/** A valid command whose text is within a few KiB of maxPayload (or exactly at it). */
export const hugeJson = fc
  .tuple(fc.integer({ min: 0, max: 4096 }), fc.constantFrom('publish', 'send', 'unknown'), fc.boolean(), deliveryArb)
  .map(([under, type, multibyte, d]) =>
    textCase(
      'huge-json',
      `${type}, maxPayload - ${under} bytes${multibyte ? ', multi-byte' : ''}`,
      (ctx) => {
        const head =
          type === 'publish'
            ? '{"type":"publish","topic":"t0","echo":true,"ref":"huge","data":"'
            : type === 'send'
              ? `{"type":"send","to":${JSON.stringify(ctx.selfId)},"ref":"huge","data":"`
              : '{"type":"huge","ref":"huge","pad":"';
        const room = ctx.maxPayload - under - head.length - 2;
        const unit = multibyte ? '€' : 'x'; // '€' is 3 bytes in UTF-8
        const pad =
          unit.repeat(Math.floor(room / Buffer.byteLength(unit))) + 'x'.repeat(room % Buffer.byteLength(unit));
        return `${head}${pad}"}`;
      },
      d,
    ),
  );

export const binaryMessage = fc
  .tuple(fc.uint8Array({ maxLength: 300 }), deliveryArb)
  .map(([bytes, d]) => mk('binary-frame', `${bytes.length} bytes`, () => deliver(Op.Binary, bytes, d)));

/** Pings and pongs with any payload up to 125 bytes: answered (ping) or ignored (pong). */
export const controlFrames = fc
  .array(fc.tuple(fc.constantFrom(Op.Ping, Op.Pong), fc.uint8Array({ maxLength: 125 })), { minLength: 1, maxLength: 4 })
  .map((list) =>
    mk('ping-pong', list.map(([op, p]) => `${op === Op.Ping ? 'ping' : 'pong'}(${p.length})`).join(' '), () =>
      list.map(([opcode, payload]) => buildFrame({ opcode, payload })),
    ),
  );

/** Many commands in one write: replies must come back complete and in order. */
export const commandFlood = fc
  .tuple(
    fc.array(fc.oneof({ weight: 100, arbitrary: goodCommandArb }, { weight: 1, arbitrary: brokenCommandArb }), {
      minLength: 30,
      maxLength: 150,
    }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  )
  .map(([list, splits]) =>
    mk('command-flood', `${list.length} commands`, (ctx) =>
      splitWrites(
        Buffer.concat(list.map((e) => buildFrame({ opcode: Op.Text, payload: Buffer.from(entriesText(e, ctx)) }))),
        splits,
      ),
    ),
  );

/** Subscribes to ever more topics in one write: past maxTopicsPerClient (100) each gets too_many_topics. */
export const topicStorm = fc.tuple(fc.integer({ min: 90, max: 130 }), fc.boolean()).map(([n, refs]) =>
  mk('topic-storm', `${n} subscribes${refs ? ' with refs' : ''}`, () => [
    Buffer.concat(
      Array.from({ length: n }, (_, i) =>
        buildFrame({
          opcode: Op.Text,
          payload: Buffer.from(`{"type":"subscribe","topic":"s${i}"${refs ? `,"ref":${i}` : ''}}`),
        }),
      ),
    ),
  ]),
);

/** The JSON-level mixture: mostly commands, some of every kind of bad frame. */
export const jsonCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 30, arbitrary: validCommand },
  { weight: 12, arbitrary: wrongFieldTypes },
  { weight: 4, arbitrary: unknownCommand },
  { weight: 4, arbitrary: notAnObject },
  { weight: 4, arbitrary: malformedJson },
  { weight: 2, arbitrary: deepJson },
  { weight: 1, arbitrary: hugeJson },
  { weight: 1, arbitrary: edgeNumbers },
  { weight: 4, arbitrary: binaryMessage },
  { weight: 4, arbitrary: controlFrames },
  { weight: 1, arbitrary: commandFlood },
  { weight: 1, arbitrary: topicStorm },
);

// ---------------------------------------------------------------- frame-level violations (the connection closes)

const maskArb = fc.uint8Array({ minLength: 4, maxLength: 4 });
const smallPayload = fc.uint8Array({ maxLength: 40 });

const frameCase = (category: string, label: string, specs: (ctx: Ctx) => FrameSpec[], splits: number[] = []): Case =>
  mk(category, label, (ctx) => splitWrites(Buffer.concat(specs(ctx).map(buildFrame)), splits));

export const reservedOpcode = fc
  .tuple(fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), fc.boolean(), smallPayload, maskArb)
  .map(([opcode, fin, payload, mask]) =>
    frameCase('reserved-opcode', `opcode ${opcode}${fin ? '' : ' no FIN'}`, () => [{ opcode, fin, payload, mask }]),
  );

export const rsvBits = fc
  .tuple(
    fc.integer({ min: 1, max: 7 }),
    fc.constantFrom(Op.Text, Op.Binary, Op.Ping, Op.Close, Op.Continuation),
    smallPayload,
  )
  .map(([rsv, opcode, payload]) =>
    frameCase('rsv-bits', `rsv ${rsv.toString(2).padStart(3, '0')} on opcode ${opcode}`, () => [
      { opcode, rsv, payload },
    ]),
  );

export const fragmentedControl = fc
  .tuple(fc.constantFrom(Op.Ping, Op.Pong, Op.Close), smallPayload, fc.boolean())
  .map(([opcode, payload, inMessage]) =>
    frameCase(
      'fragmented-control',
      `opcode ${opcode} without FIN${inMessage ? ' inside a fragmented text' : ''}`,
      () => [
        ...(inMessage ? [{ opcode: Op.Text, fin: false, payload: Buffer.from('{"type"') }] : []),
        { opcode, fin: false, payload },
      ],
    ),
  );

export const controlTooLong = fc
  .tuple(
    fc.constantFrom(Op.Ping, Op.Pong, Op.Close),
    fc.oneof(fc.integer({ min: 126, max: 300 }), fc.bigInt({ min: 301n, max: 2n ** 64n - 1n })),
    fc.constantFrom<16 | 64>(16, 64),
    fc.boolean(),
  )
  .map(([opcode, len, form, sendAll]) =>
    frameCase('control-too-long', `opcode ${opcode} declaring ${len} bytes (${form}-bit)`, () => {
      const declared = form === 16 && BigInt(len) > 0xffffn ? 0xffffn : BigInt(len);
      return [
        {
          opcode,
          declaredLength: declared,
          lengthForm: form,
          payload: new Uint8Array(sendAll && declared <= 300n ? Number(declared) : 3),
        },
      ];
    }),
  );

export const unmasked = fc
  .tuple(fc.constantFrom(Op.Text, Op.Binary, Op.Ping, Op.Pong, Op.Close, Op.Continuation), fc.boolean(), smallPayload)
  .map(([opcode, fin, payload]) =>
    frameCase('unmasked', `opcode ${opcode}${fin ? '' : ' no FIN'}`, () => [
      {
        opcode,
        fin: opcode >= 8 ? true : fin,
        payload: opcode === Op.Close ? Buffer.from([3, 232]) : payload,
        mask: false,
      },
    ]),
  );

export const continuationWithoutStart = fc
  .tuple(fc.constantFrom('bare', 'after-complete', 'new-text-inside', 'new-binary-inside'), smallPayload, fc.boolean())
  .map(([how, payload, fin]) =>
    frameCase('continuation-without-start', how, () => {
      switch (how) {
        case 'bare':
          return [{ opcode: Op.Continuation, fin, payload }];
        case 'after-complete':
          return [
            { opcode: Op.Text, payload: Buffer.from('{"type":"ping"}') },
            { opcode: Op.Continuation, fin, payload },
          ];
        case 'new-text-inside':
          return [
            { opcode: Op.Text, fin: false, payload: Buffer.from('{"type":') },
            { opcode: Op.Text, payload },
          ];
        default:
          return [
            { opcode: Op.Binary, fin: false, payload },
            { opcode: Op.Binary, fin, payload },
          ];
      }
    }),
  );

export const oversizedFrame = fc
  .tuple(
    fc.constantFrom(Op.Text, Op.Binary),
    fc.oneof(fc.integer({ min: 1, max: 70_000 }), fc.bigInt({ min: 70_001n, max: 2n ** 64n - 1n })),
    fc.constantFrom<16 | 64>(16, 64),
    fc.nat({ max: 64 }),
  )
  .map(([opcode, over, form, sent]) =>
    frameCase('oversized-frame', `opcode ${opcode}, maxPayload + ${over} (${form}-bit), ${sent} bytes sent`, (ctx) => {
      let declared = BigInt(ctx.maxPayload) + BigInt(over);
      if (declared > 2n ** 64n - 1n) declared = 2n ** 64n - 1n;
      if (form === 16 && declared > 0xffffn) form = 64;
      return [{ opcode, declaredLength: declared, lengthForm: form, payload: new Uint8Array(sent) }];
    }),
  );

export const oversizedFragmented = fc
  .tuple(
    fc.constantFrom(Op.Text, Op.Binary),
    fc.integer({ min: 2, max: 6 }),
    fc.integer({ min: 1, max: 2000 }),
    fc.boolean(),
  )
  .map(([opcode, pieces, over, pingsBetween]) =>
    frameCase(
      'oversized-fragmented',
      `opcode ${opcode} in ${pieces} fragments, maxPayload + ${over}${pingsBetween ? ', pings between' : ''}`,
      (ctx) => {
        const total = ctx.maxPayload + over;
        const size = Math.ceil(total / pieces);
        const specs: FrameSpec[] = [];
        let sent = 0;
        for (let i = 0; i < pieces; i++) {
          const n = Math.min(size, total - sent);
          // Text fragments are ASCII '[' so that nothing but the size is wrong.
          specs.push({
            opcode: i === 0 ? opcode : Op.Continuation,
            fin: i === pieces - 1,
            payload: new Uint8Array(n).fill(0x5b),
          });
          if (pingsBetween) specs.push({ opcode: Op.Ping, payload: Buffer.from(`p${i}`) });
          sent += n;
        }
        return specs;
      },
    ),
  );

const invalidUtf8Seq = fc.constantFrom(
  [0xff],
  [0xc0, 0xaf], // overlong '/'
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xc3], // truncated
  [0xe2, 0x82], // truncated '€'
  [0x80], // lone continuation
  [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
);

export const invalidUtf8Text = fc
  .tuple(fc.string({ maxLength: 30 }), invalidUtf8Seq, fc.string({ maxLength: 30 }), deliveryArb)
  .map(([a, bad, b, d]) =>
    mk(
      'invalid-utf8',
      `text ${JSON.stringify(a)} + ${bad.map((x) => x.toString(16)).join(' ')} + ${JSON.stringify(b)}`,
      () => deliver(Op.Text, Buffer.concat([Buffer.from(a), Buffer.from(bad), Buffer.from(b)]), d),
    ),
  );

export const closeFrames = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 65535 }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          999,
          1000,
          1001,
          1002,
          1003,
          1004,
          1005,
          1006,
          1007,
          1011,
          1012,
          1014,
          1015,
          1016,
          2999,
          3000,
          4999,
          5000,
        ),
      },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => Buffer.from(s).subarray(0, 123)),
      fc
        .tuple(fc.string({ maxLength: 10 }), invalidUtf8Seq)
        .map(([s, bad]) => Buffer.concat([Buffer.from(s), Buffer.from(bad)])),
    ),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([code, reason, oneByte, trailing]) =>
    mk(
      'close-frame',
      oneByte
        ? 'close with a 1-byte body'
        : `close ${code ?? '(empty)'} reason ${JSON.stringify(reason.toString('latin1'))}${trailing ? ' + trailing frames' : ''}`,
      () => [
        Buffer.concat([
          oneByte ? buildFrame({ opcode: Op.Close, payload: Buffer.from([3]) }) : closeFrame(code, reason),
          // After a close frame the server must ignore everything.
          ...(trailing
            ? [
                buildFrame({ opcode: Op.Text, payload: Buffer.from('{"type":"ping","ref":"after-close"}') }),
                buildFrame({ opcode: 5 }),
              ]
            : []),
        ]),
      ],
    ),
  );

export const frameViolation: fc.Arbitrary<Case> = fc.oneof(
  reservedOpcode,
  rsvBits,
  fragmentedControl,
  controlTooLong,
  unmasked,
  continuationWithoutStart,
  oversizedFrame,
  oversizedFragmented,
  invalidUtf8Text,
  closeFrames,
);

// ---------------------------------------------------------------- random bytes and random frames

export const randomBytes = fc
  .tuple(
    fc.uint8Array({ minLength: 1, maxLength: 512 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  )
  .map(([bytes, splits]) =>
    mk('random-bytes', `${bytes.length} bytes: ${Buffer.from(bytes.subarray(0, 16)).toString('hex')}…`, () =>
      splitWrites(Buffer.from(bytes), splits),
    ),
  );

const frameSpecArb: fc.Arbitrary<FrameSpec> = fc
  .record({
    opcode: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) },
    ),
    fin: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    rsv: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
    mask: fc.oneof({ weight: 8, arbitrary: maskArb }, { weight: 1, arbitrary: fc.constant(false as const) }),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
      fc
        .constantFrom('{"type":"ping"}', '{"type":"ping","ref":7}', '{"type":"subscribe","topic":"t1"}')
        .map((s) => Buffer.from(s)),
    ),
    lengthForm: fc.option(fc.constantFrom<7 | 16 | 64>(16, 64), { nil: undefined, freq: 6 }),
    lie: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined, freq: 10 }),
  })
  .map(({ lie, lengthForm, ...f }) => ({
    ...f,
    ...(lengthForm ? { lengthForm } : {}),
    ...(lie === undefined
      ? {}
      : { declaredLength: lengthForm === 16 ? lie & 0xffffn : lengthForm === undefined ? lie & 0x7dn : lie }),
  }));

export const frameSoup = fc
  .tuple(
    fc.array(frameSpecArb, { minLength: 1, maxLength: 8 }),
    fc.nat(),
    fc.boolean(),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  )
  .map(([specs, cut, truncate, splits]) =>
    mk(
      'frame-soup',
      specs
        .map(
          (s) =>
            `${s.opcode}${s.fin === false ? '~' : ''}${s.rsv ? `r${s.rsv}` : ''}${s.mask === false ? 'u' : ''}${s.declaredLength === undefined ? '' : `#${s.declaredLength}`}`,
        )
        .join(' ') + (truncate ? ` cut@${cut}` : ''),
      () => {
        const bytes = Buffer.concat(specs.map(buildFrame));
        return splitWrites(truncate ? bytes.subarray(0, cut % (bytes.length + 1)) : bytes, splits);
      },
    ),
  );

export const randomCase: fc.Arbitrary<Case> = fc.oneof(randomBytes, frameSoup);

/** A valid-command prefix keeps state (topics, bad-frame count) in play before the case under test. */
export const sessionOf = (last: fc.Arbitrary<Case>, prefix = 4): fc.Arbitrary<Case[]> =>
  fc
    .tuple(
      fc.array(fc.oneof({ weight: 4, arbitrary: validCommand }, { weight: 1, arbitrary: jsonCase }), {
        maxLength: prefix,
      }),
      last,
    )
    .map(([p, l]) => [...p, l]);
