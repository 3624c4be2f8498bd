/**
 * Processes of a run: the server under test (pinned to core 0) and the load generator (pinned
 * to core 1), each started fresh and always stopped, with every wait bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { coreTicks } from './proc.js';
import type { Peer } from './peers.js';
import type { Job, JobResult } from './types.js';

const SERVER_START_TIMEOUT_MS = 20_000;
const SERVER_STOP_TIMEOUT_MS = 5_000;
const GENERATOR_TIMEOUT_MS = 150_000;

export const hasTaskset = (): boolean => spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

export const clockTicks = (): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
};

/**
 * `node ARGS` with the soft open-file limit raised to the hard limit, pinned to `core` when
 * taskset exists. sh and taskset exec: the child's pid is node's.
 */
function spawnNode(root: string, args: readonly string[], core: number | undefined): ChildProcess {
  const command =
    core === undefined ? [process.execPath, ...args] : ['taskset', '-c', String(core), process.execPath, ...args];
  return spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...command], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exited = (child: ChildProcess, timeoutMs: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : Promise.race([
        new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
        sleep(timeoutMs, false),
      ]);

export interface Server {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** A server process: a peer, or one node of a cross-node run (its own id and arguments). */
export async function startServer(
  root: string,
  peer: Pick<Peer, 'args'> & { readonly id: string },
  core: number | undefined,
): Promise<Server> {
  const child = spawnNode(root, peer.args, core);
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await exited(child, SERVER_STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await exited(child, SERVER_STOP_TIMEOUT_MS);
    }
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${peer.id} did not print its listening line within ${SERVER_START_TIMEOUT_MS} ms`)),
      SERVER_START_TIMEOUT_MS,
    );
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${peer.id} exited (${code ?? signal}) before listening: ${stderr.trim()}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  if (child.pid === undefined) throw new Error(`${peer.id} has no pid`);
  return { pid: child.pid, port, stop };
}

export const runGenerator = (root: string, job: Job, core: number | undefined): Promise<JobResult> =>
  runChild(root, ['dist/bench/load/main.js', JSON.stringify(job)], core);

/** Runs a node script that prints one line "RESULT <json>" (a JobResult, or {"error": "..."}). */
export async function runChild(root: string, args: readonly string[], core: number | undefined): Promise<JobResult> {
  const child = spawnNode(root, args, core);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  if (!(await exited(child, GENERATOR_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    await exited(child, 5_000);
    throw new Error(
      `${args.find((a) => a.endsWith('.js')) ?? 'the child'} did not finish within ${GENERATOR_TIMEOUT_MS} ms`,
    );
  }
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line)
    throw new Error(
      `${args.find((a) => a.endsWith('.js')) ?? 'the child'} printed no result (exit ${child.exitCode ?? child.signalCode}): ${stderr.trim().slice(-500)}`,
    );
  const body = JSON.parse(line.slice(7)) as JobResult | { error: string };
  if ('error' in body) throw new Error(body.error);
  return body;
}

/**
 * Waits (at most maxWaitMs) until the machine is quiet: less than `threshold` cores busy over
 * 200 ms. Another process's test run would otherwise share the cores under test.
 */
export async function waitForQuiet(maxWaitMs: number, threshold = 0.25): Promise<{ waitedMs: number; load: number }> {
  const started = performance.now();
  for (;;) {
    const a = coreTicks();
    await sleep(200);
    const b = coreTicks();
    const load = b.reduce((sum, core, i) => {
      const before = a[i] ?? core;
      return sum + (core.busy - before.busy) / (core.total - before.total || 1);
    }, 0);
    const waitedMs = performance.now() - started;
    if (load < threshold || waitedMs >= maxWaitMs) return { waitedMs, load };
    await sleep(700);
  }
}
