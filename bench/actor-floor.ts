/**
 * The floor: what one XState actor costs on this Node, whatever the machine, next to what
 * actorhub's client actor and its REGISTER step cost. A target out of reach needs the profile that
 * explains why and what the limit is; this makes that limit a number anyone can reproduce.
 *
 * Each measurement is a fresh child process (`--expose-gc`) that warms the code up, then creates
 * and starts `count` actors as children of one parent actor. Two per variant and round: with a
 * 256 MiB young generation (no scavenge during the batch, so the heap's growth is what it
 * allocated; bytes allocated and bytes still held after a full GC, per actor) and with V8's
 * default heap (CPU µs per actor, the collections its garbage causes included). Variants
 * interleave (A B C … A B C …); medians [min–max] over the rounds.
 *
 * Run: npm run bench -- actor-floor [--rounds 5 --count 5000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { createActor, fromCallback, fromTransition, setup, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { clientMachine } from '../machines/client.machine.js';
import type { ClientInput, Writer } from '../machines/client.types.js';
import { fakeHub } from './ops/fake-hub.js';
import { parseCli } from './cli.js';

const values = parseCli('npm run bench -- actor-floor [options]', {
  variant: { type: 'string' },
  rounds: { type: 'string', default: '5', describe: 'rounds; every variant is measured twice per round' },
  count: { type: 'string', default: '5000', describe: 'actors created per measurement' },
});

/** Below this, 5000 actors of ~30 KB of garbage each would not fit: a scavenge would run mid-batch. */
const YOUNG_GENERATION_MIB = 256;
const WARM_UP_ACTORS = 2000;

interface Variant {
  readonly id: string;
  readonly label: string;
  /** Builds one per-client thing; `i` keeps ids unique. */
  readonly make: (i: number) => unknown;
}

// Shared, as in the hub (one limits object, one departure queue for all clients): the row then
// counts the actor itself. The real writer is per client, a cost outside XState (docs/performance.md, "What one connection costs").
const shared: Omit<ClientInput, 'id'> = {
  meta: undefined,
  writer: {
    start: () => undefined,
    send: () => undefined,
    dispose: () => undefined,
    handOver: () => undefined,
  } satisfies Writer,
  limits: { maxMessages: 256, maxBytes: 1024 * 1024, policy: 'close' },
  badFrames: { max: 10, windowMs: 60_000 },
  departures: { send: () => undefined },
};
const clientInput = (id: string): ClientInput => ({ id, ...shared });

const atomicMachine = setup({ types: { input: {} as { id: string } } }).createMachine({
  context: ({ input }) => ({ id: input.id, count: 0 }),
});
const twoStateMachine = setup({ types: { input: {} as { id: string } } }).createMachine({
  context: ({ input }) => ({ id: input.id, count: 0 }),
  initial: 'open',
  states: { open: { on: { close: 'closed' } }, closed: {} },
});

function variants(parent: AnyActorRef): Variant[] {
  const child = (logic: AnyActorLogic, i: number, input?: unknown): AnyActorRef =>
    createActor(logic, { parent, id: `c${i}`, input }).start();
  const callback = fromCallback(() => undefined);
  const transition = fromTransition((state: number) => state, 0);
  let hub: ReturnType<typeof fakeHub> | undefined;
  return [
    // What any per-client record costs: the floor under every actor.
    {
      id: 'object',
      label: 'plain object (8 fields)',
      make: (i) => ({ id: `c${i}`, a: i, b: null, c: null, d: 0, e: 0, f: undefined, g: parent }),
    },
    { id: 'callback', label: 'fromCallback actor', make: (i) => child(callback, i) },
    { id: 'transition', label: 'fromTransition actor', make: (i) => child(transition, i) },
    { id: 'atomic', label: 'machine, no child states', make: (i) => child(atomicMachine, i, { id: `c${i}` }) },
    { id: 'two-states', label: 'machine, two states', make: (i) => child(twoStateMachine, i, { id: `c${i}` }) },
    { id: 'client', label: "actorhub's client machine", make: (i) => child(clientMachine, i, clientInput(`c${i}`)) },
    {
      id: 'register',
      label: 'hub REGISTER (client machine + hub step)',
      make: (i) => {
        hub ??= fakeHub(Number.POSITIVE_INFINITY);
        hub.register(`c${i}`);
        return undefined;
      },
    },
  ];
}

interface Measurement {
  readonly cpuMicros: number;
  readonly allocatedBytes: number;
  readonly retainedBytes: number;
  readonly collections: number;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('the child runs with --expose-gc');
  for (let i = 0; i < 3; i++) collect();
}

/** Child: one variant, one batch. */
async function measure(variantId: string, count: number): Promise<Measurement> {
  const collectedAt: number[] = [];
  let end = Number.POSITIVE_INFINITY;
  let sawForcedGc: () => void = () => undefined;
  const forcedGcSeen = new Promise<void>((resolve) => (sawForcedGc = resolve));
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      collectedAt.push(entry.startTime);
      if (entry.startTime > end) sawForcedGc();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const parent = createActor(setup({}).createMachine({})).start();
  const all = variants(parent);
  const variant = all.find((v) => v.id === variantId);
  if (!variant) throw new Error(`unknown variant ${variantId}; one of ${all.map((v) => v.id).join(', ')}`);
  const kept: unknown[] = [];
  // Warm-up with other ids: the measured batch runs optimised code.
  for (let i = 0; i < WARM_UP_ACTORS; i++) kept.push(variant.make(count + i));
  gc();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) kept.push(variant.make(i));
  const used = process.cpuUsage(cpu);
  const allocated = process.memoryUsage().heapUsed - before;
  end = performance.now();
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  if (kept.length !== WARM_UP_ACTORS + count) throw new Error('lost a reference');
  // GC entries arrive a while later: once the forced collection after the batch is reported,
  // every collection during the batch has been too.
  await forcedGcSeen;
  observer.disconnect();
  const collections = collectedAt.filter((t) => t >= start && t <= end).length;
  return {
    cpuMicros: (used.user + used.system) / count,
    allocatedBytes: allocated / count,
    retainedBytes: retained / count,
    collections,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * `allocation`: a young generation large enough that no scavenge runs during the batch (its
 * figures: allocated and retained bytes). `cpu`: V8's default heap, so the CPU figure includes
 * the collections the garbage causes (and not the page faults of a 256 MiB young generation).
 */
type Mode = 'allocation' | 'cpu';

function runChild(variant: string, count: number, mode: Mode): Measurement {
  const heap =
    mode === 'allocation'
      ? [`--min-semi-space-size=${YOUNG_GENERATION_MIB}`, `--max-semi-space-size=${YOUNG_GENERATION_MIB}`]
      : [];
  const args = ['--expose-gc', ...heap, fileURLToPath(import.meta.url), '--variant', variant, '--count', String(count)];
  const pinned = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
  const out = pinned
    ? spawnSync('taskset', ['-c', '0', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`variant ${variant} failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Measurement;
}

function main(): void {
  const rounds = Number(values.rounds);
  const count = Number(values.count);
  const ids = variants(createActor(setup({}).createMachine({}))).map((v) => [v.id, v.label] as const);
  const results = new Map<string, Measurement[]>(ids.map(([id]) => [id, []]));
  const cpu = new Map<string, number[]>(ids.map(([id]) => [id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [id] of ids) {
      results.get(id)!.push(runChild(id, count, 'allocation'));
      cpu.get(id)!.push(runChild(id, count, 'cpu').cpuMicros);
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
  const fmt = (xs: readonly number[], digits: number): string =>
    `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
  console.log(`Node ${process.version}, ${count} actors per batch, ${rounds} rounds, medians [min–max]`);
  console.log('| what | CPU µs per actor (GC included) | allocated B per actor | retained B per actor |');
  console.log('|---|---|---|---|');
  for (const [id, label] of ids) {
    const ms = results.get(id)!;
    const grew = ms.filter((m) => m.collections !== 0).length;
    const note = grew ? ` (a GC ran in ${grew}/${ms.length} batches: understated)` : '';
    console.log(
      `| ${label} | ${fmt(cpu.get(id)!, 1)} | ${fmt(
        ms.map((m) => m.allocatedBytes),
        0,
      )}${note} | ${fmt(
        ms.map((m) => m.retainedBytes),
        0,
      )} |`,
    );
  }
}

if (values.variant) {
  process.stdout.write(JSON.stringify(await measure(values.variant, Number(values.count))));
} else {
  main();
}
