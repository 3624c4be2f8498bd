/**
 * Shared pieces of the reliability scripts (docs/reliability.md: slow reader, churn soak, ordering,
 * shutdown under load): the hub as a child process started through the CLI, its /stats,
 * RSS sampling, and a plain table printer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTaskset, startServer, type Server } from '../harness.js';
import { rssBytes } from '../proc.js';

export const HOST = '127.0.0.1';

export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bench'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the repository root (package.json beside bench/)');
}

/** `node dist/src/server/cli.js` with these flags, on 127.0.0.1 and a free port, pinned to core 0 when taskset exists. */
export function startHubProcess(flags: readonly string[]): Promise<Server> {
  return startServer(
    repoRoot(),
    {
      id: 'actorhub',
      args: ['dist/src/server/cli.js', '--port', '0', '--host', HOST, '--log-level', 'error', ...flags],
    },
    hasTaskset() ? 0 : undefined,
  );
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** Resolves when the process exits, with its code or signal and performance.now() at that moment. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  readonly stderr: () => string;
}

/** The CLI as a child process whose exit the caller watches itself (startHubProcess SIGKILLs a slow stop). */
export async function spawnCli(flags: readonly string[]): Promise<CliProcess> {
  const args = ['dist/src/server/cli.js', '--port', '0', '--host', HOST, '--log-level', 'error', ...flags];
  const command = hasTaskset() ? ['taskset', '-c', '0', process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...command], {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(({ code }) => reject(new Error(`the CLI exited (${code}) before listening: ${stderr}`)));
  });
  return { child, pid: child.pid!, port, exited, stderr: () => stderr };
}

export type Stats = Record<string, unknown> & { clients: number };

/** GET /stats of the hub process. */
export function getStats(port: number): Promise<Stats> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: '/stats', agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Stats);
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('/stats timed out')));
    req.on('error', reject);
  });
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs: number) {
  const samples: { t: number; rss: number }[] = [];
  const t0 = performance.now();
  const take = (): void => {
    try {
      samples.push({ t: performance.now() - t0, rss: rssBytes(pid) });
    } catch {
      // the process is gone
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop(): void {
      clearInterval(timer);
      take();
    },
  };
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Prints rows as an aligned text table (first row: header). */
export function printTable(rows: readonly (readonly (string | number)[])[]): void {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(cells[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** The soft open-file limit of this process: a client socket is one descriptor. */
export function softFdLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match?.[1] ?? 1024);
}
