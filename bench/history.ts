/**
 * npm run bench -- history — the product's default path and what history costs:
 *  1. JSON `publish` to a topic of N subscribers (1,000 and 5,000), measured like the relay
 *     fan-out (bench/publish.ts: sustained deliveries/s with at most 32 messages in flight,
 *     server pinned to core 0 and generator to core 1, fresh processes, servers interleaved
 *     round by round, medians): raw `ws` (forwards the publish frame to every other client),
 *     socket.io rooms (`io.to(room).emit`), actorhub with history off, on in memory, on over
 *     Redis and over NATS on one node (the cluster path), and on over Redis with two nodes
 *     (publisher on node 1, subscribers split over both). `npm run bench` runs the same scenario.
 *  2. Time to recover 1,000 missed messages (subscribe with `since` → the 1,000th replayed).
 *  3. Memory of 10k topics × 100 messages in the in-memory store (a child with --expose-gc).
 * Writes bench/results/history.json. Options: --rounds 3 --sizes 1000,5000 --variants LIST
 * --skip-recovery --redis URL --nats URL; --report FILE prints a saved run's table again
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { memoryHistory } from '../src/history/memory.js';
import { natsHistoryStream } from '../src/history/nats.js';
import { clockTicks, hasTaskset, waitForQuiet } from './harness.js';
import { settingsFor, type Options } from './plan.js';
import { executePublish } from './publish.js';
import { parseCli } from './cli.js';
import { PUBLISH_VARIANTS, publishPeer, publishServer, type PublishVariant } from './publish-servers.js';
import { columns } from './report/format.js';
import { publishTable } from './report/tables.js';
import { publishRows, type RunRecord } from './summary.js';

const values = parseCli('npm run bench -- history [options]', {
  rounds: { type: 'string', default: '3', describe: 'interleaved rounds' },
  sizes: { type: 'string', default: '1000,5000', describe: 'subscribers per topic, comma-separated' },
  variants: { type: 'string', default: PUBLISH_VARIANTS.join(','), describe: 'servers to measure, comma-separated' },
  'skip-recovery': { type: 'boolean', default: false, describe: 'skip the recovery-time and memory parts' },
  redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', describe: 'Redis URL' },
  nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', describe: 'NATS URL' },
  'memory-child': { type: 'boolean', default: false },
  report: { type: 'string', describe: 'print the publish table of a results file again; run nothing' },
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAYLOAD = JSON.stringify({ n: 0, text: 'x'.repeat(40) }); // 64 bytes of data
const ACTORHUB = ['dist/src/server/cli.js', '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'];
const prefix = `bh${process.pid}`;
/** Longest wait for the machine to go quiet before a run, and all such waits together. */
const QUIET_WAIT_MS = 10_000;
const QUIET_BUDGET_MS = 60_000;

async function start(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { proc, port };
}

/** The publish scenario, servers interleaved within each round: every run's record. */
async function publishRuns(): Promise<RunRecord[]> {
  const rounds = Number(values.rounds);
  const sizes = values.sizes.split(',').map(Number);
  const variants = values.variants.split(',').map((v) => {
    if (!(PUBLISH_VARIANTS as readonly string[]).includes(v))
      throw new Error(`unknown variant "${v}"; expected some of ${PUBLISH_VARIANTS.join(',')}`);
    return v as PublishVariant;
  });
  const s = settingsFor(parseOptionsDefaults()).publish;
  const taskset = hasTaskset();
  const clkTck = clockTicks();
  const core = (c: number): number | undefined => (taskset ? c : undefined);
  const runs: RunRecord[] = [];
  let budget = QUIET_BUDGET_MS;
  for (const n of sizes) {
    for (let round = 1; round <= rounds; round++) {
      for (const variant of variants) {
        const quiet = await waitForQuiet(Math.min(QUIET_WAIT_MS, budget));
        budget = Math.max(0, budget - quiet.waitedMs);
        const what = `n=${n} r${round} ${publishServer(variant).label}`;
        const spec = {
          scenario: 'publish' as const,
          peer: publishPeer(variant),
          variant,
          round,
          n,
          payload: s.payload,
        };
        const t0 = performance.now();
        try {
          const { result, brokerDropped } = await executePublish(
            ROOT,
            variant,
            n,
            s,
            { brokers: values, prefix: `${prefix}-${variant}-${n}-r${round}`, counters: 'raw', clkTck },
            core,
          );
          const cpu = result.cpu;
          process.stderr.write(
            `${what}: ${Math.round(result.deliveriesPerSec)} deliveries/s, server core ${(100 * (cpu.cores[0]?.busy ?? 0)).toFixed(0)}%, gen core ${(100 * (cpu.cores[1]?.busy ?? 0)).toFixed(0)}%, others ${(100 * cpu.others).toFixed(0)}%, lost ${result.check.lost}${quiet.load >= 0.25 ? ` (machine busy: ${quiet.load.toFixed(2)} cores)` : ''}\n`,
          );
          runs.push({
            ...spec,
            quietWaitMs: Math.round(quiet.waitedMs),
            durationMs: Math.round(performance.now() - t0),
            result,
            ...(brokerDropped === undefined ? {} : { brokerDropped }),
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          process.stderr.write(`${what}: FAILED: ${message}\n`);
          runs.push({ ...spec, quietWaitMs: Math.round(quiet.waitedMs), error: message });
        }
      }
    }
  }
  return runs;
}

const parseOptionsDefaults = (): Options => ({
  quick: false,
  rounds: 1,
  only: ['publish'],
  peers: ['raw-ws', 'socket.io', 'actorhub'],
  counters: 'raw',
  docs: false,
  reportOnly: false,
  redis: values.redis,
  nats: values.nats,
});

/** ms from `subscribe` with `since` to the 1,000th replayed message. */
async function recovery(extra: string[]): Promise<number> {
  const { proc, port } = await start([...ACTORHUB, '--history-size', '1000', ...extra]);
  try {
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const frames: Record<string, unknown>[] = [];
      let waiter: (() => void) | undefined;
      ws.on('message', (d) => {
        frames.push(JSON.parse(d.toString()) as Record<string, unknown>);
        waiter?.();
      });
      await new Promise((resolve) => ws.once('open', resolve));
      const next = (pred: (f: Record<string, unknown>) => boolean) =>
        new Promise<Record<string, unknown>>((resolve) => {
          const check = () => {
            const f = frames.find(pred);
            if (f) {
              waiter = undefined;
              resolve(f);
            }
          };
          waiter = check;
          check();
        });
      return { ws, next };
    };
    const sub = await open();
    sub.ws.send('{"type":"subscribe","topic":"r","ref":1}');
    const ack = await sub.next((f) => f.type === 'ack');
    const { epoch, offset } = ack.result as { epoch: string; offset: number };
    sub.ws.close();
    const pub = await open();
    for (let i = 0; i < 1000; i++) pub.ws.send(`{"type":"publish","topic":"r","data":${PAYLOAD},"ref":${i}}`);
    await pub.next((f) => f.type === 'ack' && f.ref === 999);
    const back = await open();
    const t0 = performance.now();
    back.ws.send(JSON.stringify({ type: 'subscribe', topic: 'r', since: { epoch, offset }, ref: 1 }));
    await back.next((f) => f.type === 'message' && f.offset === offset + 1000);
    const ms = performance.now() - t0;
    pub.ws.close();
    back.ws.close();
    return ms;
  } finally {
    proc.kill('SIGKILL');
  }
}

function memoryChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const before = process.memoryUsage().heapUsed;
  const store = memoryHistory({ size: 100, ttlMs: 3_600_000, maxStreams: 10_000 });
  for (let t = 0; t < 10_000; t++) {
    for (let i = 0; i < 100; i++)
      store.append(`topic:${t}`, { from: 'c0ffee00-1234', data: `{"n":${i},"text":"${'x'.repeat(40)}"}` });
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(JSON.stringify({ heapBytes: after - before, ...store.stats() }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (values['memory-child']) return memoryChild();
  if (values.report !== undefined) {
    const saved = JSON.parse(readFileSync(values.report, 'utf8')) as { runs: RunRecord[] };
    const t = publishTable(publishRows(saved.runs));
    console.log(`${t.title}\n${columns([t.header, ...t.rows])}`);
    return;
  }
  const startedAt = new Date().toISOString();
  const runs = await publishRuns();
  const rows = publishRows(runs);
  const table = publishTable(rows);
  console.log(`\n${table.title}\n${columns([table.header, ...table.rows])}`);
  const out: Record<string, unknown> = {
    version: 1,
    command: `npm run bench -- history ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt,
    runs,
    rows,
  };
  if (!values['skip-recovery']) {
    const local: number[] = [];
    const redis: number[] = [];
    const nats: number[] = [];
    for (let i = 0; i < 5; i++) {
      local.push(await recovery([]));
      redis.push(await recovery(['--redis', values.redis, '--cluster-prefix', `${prefix}r${i}`]));
      nats.push(await recovery(['--nats', values.nats, '--cluster-prefix', `${prefix}n${i}`]));
    }
    console.log(`\nRecover 1,000 missed messages (subscribe with since → the 1,000th replayed), median of 5:`);
    console.log(
      `  one node, in memory: ${median(local).toFixed(1)} ms   over Redis: ${median(redis).toFixed(1)} ms   over NATS: ${median(nats).toFixed(1)} ms`,
    );
    out.recoveryMs = { memory: local, redis, nats };
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--memory-child'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    await new Promise((resolve) => child.once('exit', resolve));
    const mem = JSON.parse(text) as { heapBytes: number; messages: number; bytes: number };
    console.log(`\nMemory, 10k topics × 100 messages (64 B data, a 13-char sender id), in-memory store:`);
    console.log(
      `  heap ${(mem.heapBytes / 2 ** 20).toFixed(1)} MiB for ${mem.messages} messages (${Math.round(mem.heapBytes / mem.messages)} B each; the store's own estimate ${(mem.bytes / 2 ** 20).toFixed(1)} MiB)`,
    );
    out.memory = mem;
  }
  // The shared NATS keeps streams after their messages expire: delete this run's own.
  const nc = await connectNats({ servers: values.nats });
  const jsm = await jetstreamManager(nc);
  for (const p of Array.from({ length: 5 }, (_, i) => `${prefix}n${i}`))
    await jsm.streams.delete(natsHistoryStream(p)).catch(() => undefined);
  await nc.close();
  const file = path.join(ROOT, 'bench', 'results', 'history.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
}

await main();
process.exit(0);
