import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpectedJson } from './protocol-model.js';
import { RawWs } from '../support/raw-ws.js';
import { closeFrame, textFrame } from '../support/ws-frame.js';
import { startHub, whenCount, type Harness } from '../support/ws-client.js';
import { EXTENDED, runUntil, SEED, TOTAL_CASES } from './budget.js';
import {
  Bystander,
  compare,
  CountingLogger,
  deadline,
  readUntil,
  show,
  tally,
  type Expected,
  type FuzzEnv,
  type Got,
} from './driver.js';

/**
 * Floods of commands against asynchronous authorization hooks (docs/protocol.md: at most
 * maxPendingCommands wait, the rest get `overloaded`; bad frames past maxBadFrames → 1008).
 * canSubscribe waits on a gate the test opens only once every immediate answer has arrived,
 * so which commands run now, which wait and which are refused is exact, not a race.
 */

let harness: Harness;
let env: FuzzEnv;
let gate: { promise: Promise<void>; open: () => void };
const newGate = (): typeof gate => {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
};
const processErrors: unknown[] = [];
const onProcessError = (err: unknown): void => void processErrors.push(err);
const started = Date.now();

/** A command of the flood; `topic` is ignored by ping and the two bad frames. */
type Cmd = {
  kind: 'subscribe' | 'presence' | 'unsubscribe' | 'ping' | 'publish' | 'bad-json' | 'bad-type';
  topic: string;
};
const TOPICS = ['t0', 't1', 't2', 't3', 'deny0', 'deny1'];
const cmdArb = (badWeight: number): fc.Arbitrary<Cmd> =>
  fc.oneof(
    {
      weight: 100,
      arbitrary: fc.record({
        kind: fc.constantFrom('subscribe', 'subscribe', 'presence', 'unsubscribe', 'ping', 'publish'),
        topic: fc.constantFrom(...TOPICS),
      }) as fc.Arbitrary<Cmd>,
    },
    {
      weight: Math.max(badWeight, 0),
      arbitrary: fc.constantFrom<Cmd>({ kind: 'bad-json', topic: '' }, { kind: 'bad-type', topic: '' }),
    },
  );
const floodArb = fc
  .oneof(fc.constant(0), fc.constant(2), fc.constant(25))
  .chain((bad) => fc.array(cmdArb(bad), { minLength: 1, maxLength: 250, size: 'max' }));

const text = (c: Cmd, ref: string): string =>
  c.kind === 'bad-json'
    ? `{"type":"ping","ref":"${ref}"`
    : c.kind === 'bad-type'
      ? `{"type":"flood","ref":"${ref}"}`
      : c.kind === 'ping'
        ? `{"type":"ping","ref":"${ref}"}`
        : c.kind === 'publish'
          ? `{"type":"publish","topic":"${c.topic}","data":[1,"x"],"ref":"${ref}"}`
          : `{"type":"${c.kind}","topic":"${c.topic}","ref":"${ref}"}`;

/** The documented behaviour, step by step: returns the answers before and after the gate opens. */
function model(cmds: Cmd[], selfId: string, max: { pending: number; bad: number }) {
  const now: ExpectedJson[] = [];
  const later: ExpectedJson[] = [];
  const topics = new Set<string>();
  let pending = 0;
  let bad = 0;
  let closed = false;
  for (const [i, c] of cmds.entries()) {
    const ref = `c${i}`;
    if (c.kind === 'bad-json' || c.kind === 'bad-type') {
      now.push({
        type: 'error',
        code: c.kind === 'bad-json' ? 'invalid_json' : 'unknown_type',
        ...(c.kind === 'bad-type' ? { ref } : {}),
      });
      if (++bad > max.bad) {
        closed = true;
        break;
      }
      continue;
    }
    if (pending >= max.pending) {
      now.push({
        type: 'error',
        code: 'overloaded',
        ref,
        message: `more than ${max.pending} commands are waiting for authorization`,
      });
      continue;
    }
    // Runs now only if nothing is waiting; a command that calls the hook makes the rest wait.
    const async = c.kind === 'subscribe' || (c.kind === 'presence' && !topics.has(c.topic));
    const out = pending === 0 && !async ? now : later;
    if (pending > 0 || async) pending++;
    const allowed = !c.topic.startsWith('deny');
    switch (c.kind) {
      case 'subscribe':
        if (allowed) topics.add(c.topic);
        out.push(
          allowed
            ? { type: 'ack', ref }
            : { type: 'error', code: 'forbidden', ref, message: `not allowed to subscribe to "${c.topic}"` },
        );
        break;
      case 'presence':
        out.push(
          topics.has(c.topic) || allowed
            ? {
                type: 'ack',
                ref,
                result: {
                  topic: c.topic,
                  members: topics.has(c.topic) ? [{ id: selfId }] : [],
                  total: topics.has(c.topic) ? 1 : 0,
                },
              }
            : { type: 'error', code: 'forbidden', ref, message: `not allowed to see the presence of "${c.topic}"` },
        );
        break;
      case 'unsubscribe':
        topics.delete(c.topic);
        out.push({ type: 'ack', ref });
        break;
      case 'ping':
        out.push({ type: 'ack', ref });
        break;
      case 'publish':
        out.push({ type: 'ack', ref, result: { delivered: 0, forwarded: 0 } });
        break;
    }
  }
  return { now, later, closed };
}

const json = (frames: ExpectedJson[]): Expected[] => frames.map((frame) => ({ kind: 'json', frame, bytes: 200 }));

async function floodSession(cmds: Cmd[]): Promise<void> {
  const { hub, port } = harness;
  gate = newGate();
  const ws = await deadline(RawWs.connect(port, hub.options.path), 'handshake');
  try {
    const welcome = await deadline(ws.next(), 'welcome');
    if ('kind' in welcome) throw new Error('closed before the welcome');
    const selfId = (JSON.parse(welcome.payload.toString()) as { id: string }).id;
    const m = model(cmds, selfId, { pending: hub.options.maxPendingCommands, bad: hub.options.maxBadFrames });
    ws.write(Buffer.concat(cmds.map((c, i) => textFrame(text(c, `c${i}`)))));
    env.counts.set('gated-command', (env.counts.get('gated-command') ?? 0) + cmds.length);
    const before: Got[] = [];
    while (before.filter((g) => g.kind === 'json').length < m.now.length) {
      const got = await readUntil(ws, () => true, `immediate answer ${before.length + 1} of ${m.now.length}`);
      before.push(...got);
      if (got.at(-1)!.kind === 'close' || got.at(-1)!.kind === 'end') break;
    }
    if (m.closed) {
      const rest = before.at(-1)?.kind === 'close' ? [] : await readUntil(ws, () => false, 'close 1008');
      const all = [...before, ...rest];
      const last = all.at(-1)!;
      if (last.kind !== 'close' || last.code !== 1008) throw new Error(`expected 1008, got ${show(all)}`);
      const why = compare(all, json(m.now), 'close');
      if (why) throw new Error(why);
      tally(env, all);
      ws.answerClose(1008);
    } else {
      const why = compare(before, json(m.now), 'sync');
      if (why) throw new Error(`before the gate opened: ${why}`);
      gate.open();
      ws.write(textFrame('{"type":"ping","ref":"~sync"}'));
      const after = await readUntil(
        ws,
        (g) => g.kind === 'json' && (g.value as { ref?: string }).ref === '~sync',
        'answers after the gate opened',
      );
      const why2 = compare(after.slice(0, -1), json(m.later), 'sync');
      if (why2) throw new Error(`after the gate opened: ${why2}`);
      tally(env, [...before, ...after.slice(0, -1)]);
      ws.write(closeFrame(1000));
      const bye = await readUntil(ws, () => false, 'close echo');
      if (bye.length !== 1 || bye[0]!.kind !== 'close' || (bye[0] as { code?: number }).code !== 1000)
        throw new Error(`normal close: ${show(bye)}`);
      ws.end();
    }
    await deadline(ws.closed, 'socket close');
  } finally {
    gate.open(); // commands still waiting on the hook now run for a client that has left
    ws.destroy();
  }
  await deadline(
    whenCount(hub, (n) => n === 1),
    'client unregistered',
  );
  // Queued hook continuations of a departed client must not resurrect its topics.
  await new Promise<void>((r) => setImmediate(r));
  if (hub.topics().length > 0) throw new Error(`topics left behind: ${show(hub.topics())}`);
  await env.bystander.probe(hub);
  if (processErrors.length > 0) throw new Error(`uncaught in the process: ${show(processErrors.map(String))}`);
  if (env.logger.errors !== 0 || hub.stats.hookErrors !== 0)
    throw new Error(`hub logged errors: ${env.logger.last.join(' | ')}`);
}

beforeAll(async () => {
  process.on('unhandledRejection', onProcessError);
  process.on('uncaughtException', onProcessError);
  const logger = new CountingLogger();
  harness = await startHub({
    protocol: 'json',
    logger,
    canSubscribe: (_c, topic) => gate.promise.then(() => !topic.startsWith('deny')),
    // Presence of topics one is not in asks the same gated hook (members only otherwise).
    canSeePresence: (_c, topic) => gate.promise.then(() => !topic.startsWith('deny')),
    rateLimit: { presenceQueriesPerSec: Number.POSITIVE_INFINITY }, // its own test: presence-limits.test.ts
  });
  env = {
    harness,
    bystander: await Bystander.connect(harness.url),
    logger,
    counts: new Map(),
    answers: new Map(),
    processErrors,
    probeEvery: 1,
    sinceProbe: 0,
  };
});

afterAll(async () => {
  env.bystander.leave();
  await harness.stop();
  process.off('unhandledRejection', onProcessError);
  process.off('uncaughtException', onProcessError);
  console.log(
    [
      `command floods against async hooks: ${env.counts.get('gated-command') ?? 0} commands in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}; ${EXTENDED ? `target ${Math.ceil(TOTAL_CASES * 0.13)}` : 'default fixed-seed subset'})`,
      'answers checked:',
      ...[...env.answers]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `  ${k.padEnd(30)} ${String(v).padStart(7)}`),
    ].join('\n'),
  );
});

describe('command floods against asynchronous hooks', () => {
  it(
    'answers in order; past maxPendingCommands `overloaded`; past maxBadFrames 1008; nothing leaks after the client leaves',
    async () => {
      await runUntil(floodArb, floodSession, () => env.counts.get('gated-command') ?? 0, TOTAL_CASES * 0.13, 12, 4);
      expect(env.bystander.problems).toEqual([]);
      expect(processErrors).toEqual([]);
    },
    EXTENDED ? 0 : 120_000,
  );
});
