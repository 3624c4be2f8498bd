import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/src/server/cli.js', import.meta.url));

export interface HubProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly http: string;
  /** SIGKILL: a crash, no goodbye to the cluster. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
}

/** Starts the real CLI (`dist/src/server/cli.js`, built by `npm ci`/`npm run build`) as a child process on port 0. */
export async function spawnHub(args: string[], env: Record<string, string> = {}): Promise<HubProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const proc = spawn(process.execPath, [CLI, '--port', '0', '--host', '127.0.0.1', '--log-level', 'error', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`actorhub exited with ${code} before listening: ${stderr.trim()}`)));
  });
  const exited = new Promise<void>((resolve) =>
    proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve()),
  );
  return {
    proc,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    http: `http://127.0.0.1:${port}`,
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Test teardown: SIGKILLs every child still running in `running`, waits for each to exit, and empties the set. */
export async function killAll(running: Set<ChildProcess>): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  running.clear();
}

/** A cluster prefix no other run shares (this process, this millisecond): runs never see each other. */
export function uniquePrefix(tag: string): string {
  return `${tag}${process.pid}x${Date.now().toString(36)}`;
}

/**
 * CLI flags for one node of a test cluster: its broker flags, id and prefix, with heartbeats every
 * 200 ms so peers notice each other (and a crash, after `nodeTimeoutMs`) within a test's time.
 */
export function clusterNode(
  broker: readonly string[],
  nodeId: string,
  prefix: string,
  nodeTimeoutMs = 1_000,
): string[] {
  return [
    ...broker,
    '--node-id',
    nodeId,
    '--cluster-prefix',
    prefix,
    '--heartbeat',
    '200',
    '--node-timeout',
    String(nodeTimeoutMs),
  ];
}
