import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../src/server/settings.js';
import { killAll } from '../../support/hub-process.js';
import { connect, type TestClient } from '../../support/ws-client.js';

/**
 * The real CLI, compiled (dist/src/server/cli.js), as a child process: exit codes, output, the HTTP
 * endpoints, a real WebSocket client, and a graceful stop on SIGTERM / SIGINT.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const cliPath = fileURLToPath(new URL('../../../dist/src/server/cli.js', import.meta.url));

const TIMEOUT = 20_000;

interface Cli {
  readonly child: ChildProcess;
  /** Everything written so far. */
  readonly out: { stdout: string; stderr: string };
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** The environment without anything the CLI reads, so only the flags given here count. */
function cleanEnv(): NodeJS.ProcessEnv {
  const names = new Set<string>(SETTINGS.map((s) => s.env));
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !names.has(name)));
}

function spawnCli(args: string[]): Cli {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: root,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close': the process has exited AND its stdio is drained, so `out` is complete.
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, out, exited };
}

/** Runs the CLI to completion. */
async function runCli(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args);
  const { code, signal } = await cli.exited;
  return { code, signal, ...cli.out };
}

/**
 * Resolves with the match once stdout matches `pattern` (checked on every data event, no
 * polling); rejects if the process exits first. Bounded by the test's timeout.
 */
function waitForStdout(cli: Cli, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = cli.out.stdout.match(pattern);
      if (match) {
        cli.child.stdout!.off('data', onData);
        cli.child.off('exit', onExit);
        resolve(match);
      }
      return match !== null;
    };
    // Registered after spawnCli's own listener, so out.stdout already holds the chunk.
    const onData = (): void => void check();
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cli.child.stdout!.off('data', onData);
      reject(
        new Error(
          `the CLI exited (code ${code}, signal ${signal}) before printing ${pattern}\n` +
            `stdout:\n${cli.out.stdout}\nstderr:\n${cli.out.stderr}`,
        ),
      );
    };
    cli.child.stdout!.on('data', onData);
    cli.child.once('exit', onExit);
    check();
  });
}

/** Starts the server on a free loopback port and returns it once it says it is listening. */
async function startServer(extra: string[] = []): Promise<{ cli: Cli; port: number; base: string }> {
  const cli = spawnCli(['--port', '0', '--host', '127.0.0.1', '--log-level', 'silent', ...extra]);
  const match = await waitForStdout(cli, /^actorhub listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
  const port = Number(match[2]);
  expect(port).toBeGreaterThan(0);
  return { cli, port, base: match[1]! };
}

const getJson = async (url: string): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

const clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  // Nothing may outlive its test: kill whatever is still running and wait for it to go.
  await killAll(running);
});

beforeAll(() => {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} does not exist: run \`npm run build\` before these tests (they run the compiled CLI).`);
  }
});

describe('actorhub CLI: flags', () => {
  it(
    '--help prints every flag and environment variable and exits 0',
    async () => {
      const { code, stdout, stderr } = await runCli(['--help']);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      for (const s of SETTINGS) {
        expect(stdout).toContain(`--${s.flag}`);
        expect(stdout).toContain(s.env);
      }
      expect(stdout).toContain('--help');
      expect(stdout).not.toContain('listening');
    },
    TIMEOUT,
  );

  it(
    '-h is --help',
    async () => {
      const { code, stdout } = await runCli(['-h']);
      expect(code).toBe(0);
      expect(stdout).toContain('--port');
    },
    TIMEOUT,
  );

  it(
    'an unknown flag exits 2 with a one-line reason on stderr',
    async () => {
      const { code, stdout, stderr } = await runCli(['--bogus']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^actorhub: /);
      expect(lines[0]).toContain('--bogus');
    },
    TIMEOUT,
  );

  it(
    '--port abc exits 2 and names PORT on stderr, without starting',
    async () => {
      const { code, stdout, stderr } = await runCli(['--port', 'abc', '--host', '127.0.0.1']);
      expect(code).toBe(2);
      expect(stdout).not.toContain('listening');
      expect(stderr).toMatch(/^actorhub: /);
      expect(stderr).toContain('PORT');
    },
    TIMEOUT,
  );

  it(
    '--port -1 exits 2 with the range, not a complaint about an ambiguous argument',
    async () => {
      for (const args of [['--port', '-1'], ['--port=-1']]) {
        const { code, stdout, stderr } = await runCli([...args, '--host', '127.0.0.1']);
        expect(code).toBe(2);
        expect(stdout).not.toContain('listening');
        expect(stderr).toBe('actorhub: PORT must be between 0 and 65535, got -1.\n');
      }
    },
    TIMEOUT,
  );

  it(
    '--origins foo exits 2: a value that is no origin would refuse every browser silently',
    async () => {
      const { code, stdout, stderr } = await runCli(['--origins', 'foo', '--port', '0', '--host', '127.0.0.1']);
      expect(code).toBe(2);
      expect(stdout).not.toContain('listening');
      expect(stderr).toBe(
        'actorhub: origins: "foo" is not an origin; give "same-origin", "*", or origins like https://app.example.com (scheme, host and port only).\n',
      );
    },
    TIMEOUT,
  );

  it(
    '--port 70000 exits 2',
    async () => {
      const { code, stderr } = await runCli(['--port', '70000', '--host', '127.0.0.1']);
      expect(code).toBe(2);
      expect(stderr).toContain('PORT must be between 0 and 65535');
    },
    TIMEOUT,
  );

  it(
    'bad values of the observability flags exit 2 with a one-line reason naming the setting',
    async () => {
      for (const [args, name] of [
        [['--log-level', 'loud'], 'LOG_LEVEL'],
        [['--api-max-body', '0'], 'ACTORHUB_API_MAX_BODY'],
        [['--api-key', 'has space'], 'ACTORHUB_API_KEY'],
      ] as const) {
        const { code, stdout, stderr } = await runCli(['--port', '0', '--host', '127.0.0.1', ...args]);
        expect(code, args.join(' ')).toBe(2);
        expect(stdout).toBe('');
        const lines = stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^actorhub: /);
        expect(lines[0]).toContain(name);
      }
    },
    TIMEOUT * 2,
  );

  it(
    'a ping interval not below the pong wait exits 2',
    async () => {
      const { code, stderr } = await runCli([
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--ping-interval',
        '5000',
        '--pong-wait',
        '5000',
      ]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/pingIntervalMs.*pongWaitMs/);
    },
    TIMEOUT,
  );
});

describe('actorhub CLI: the running server', () => {
  it(
    'prints every URL; serves /metrics (hub and process metrics) and the HTTP API with --api-key; logs JSON lines at debug',
    async () => {
      const key = 'cli-test-key-123456';
      const cli = spawnCli(['--port', '0', '--host', '127.0.0.1', '--log-level', 'debug', '--api-key', key]);
      const match = await waitForStdout(cli, /^ {2}protocol: +json$/m);
      const port = Number(/^actorhub listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(cli.out.stdout)![1]);
      const base = `http://127.0.0.1:${port}`;
      expect(match).toBeTruthy();
      for (const line of [
        `page:      ${base}/`,
        `websocket: ws://127.0.0.1:${port}/ws`,
        `metrics:   ${base}/metrics`,
        `stats:     ${base}/stats`,
        `api:       ${base}/api/publish`,
      ]) {
        expect(cli.out.stdout).toContain(`  ${line}`);
      }

      const client = await connect(`ws://127.0.0.1:${port}/ws`);
      clients.push(client);
      const res = await fetch(`${base}/api/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: 'from the backend' }),
      });
      expect(await res.json()).toEqual({ delivered: 1 });
      await client.received(2); // welcome, then the message
      expect(JSON.parse(client.texts[1]!)).toEqual({ type: 'message', data: 'from the backend' });

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^actorhub_connections 1$/m);
      expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
      expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);

      await waitForStdout(cli, /"msg":"client connected"/);
      const connected = cli.out.stdout.split('\n').find((l) => l.includes('"client connected"'))!;
      expect(JSON.parse(connected)).toMatchObject({ level: 20, name: 'actorhub', msg: 'client connected' });
      expect(cli.out.stdout).not.toContain('from the backend');
    },
    TIMEOUT,
  );

  it(
    'without --api-key the API answers 404 api_disabled and the banner says it is off',
    async () => {
      const { cli, base } = await startServer();
      await waitForStdout(cli, /^ {2}api: +off/m);
      const res = await fetch(`${base}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"data":1}',
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'api_disabled' });
    },
    TIMEOUT,
  );

  it(
    'serves /healthz and /stats, accepts a WebSocket client, and on SIGTERM closes it with 1001 and exits 0',
    async () => {
      const { cli, port, base } = await startServer();
      expect(cli.out.stdout).toContain(`websocket: ws://127.0.0.1:${port}/ws`);

      expect(await getJson(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });

      const before = await getJson(`${base}/stats`);
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({ clients: 0 });

      const client = await connect(`ws://127.0.0.1:${port}/ws`);
      clients.push(client);
      // The server registers the client synchronously when it completes the handshake, so by
      // the time the client sees 'open' the count is already 1.
      const during = await getJson(`${base}/stats`);
      expect(during.body).toMatchObject({ clients: 1 });

      expect(await getJson(`${base}/nope`)).toMatchObject({ status: 404 });

      const closed = client.closed;
      expect(cli.child.kill('SIGTERM')).toBe(true);
      const close = await closed;
      expect(close.code).toBe(1001);
      const exit = await cli.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(cli.out.stderr).toContain('SIGTERM received');
    },
    TIMEOUT,
  );

  it(
    'SIGINT also stops it cleanly (exit 0)',
    async () => {
      const { cli, base } = await startServer();
      expect((await getJson(`${base}/healthz`)).status).toBe(200);
      cli.child.kill('SIGINT');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      expect(cli.out.stderr).toContain('SIGINT received');
    },
    TIMEOUT,
  );

  it(
    'honours --path: only that path upgrades',
    async () => {
      const { port } = await startServer(['--path', '/live']);
      const client = await connect(`ws://127.0.0.1:${port}/live`);
      clients.push(client);
      await expect(connect(`ws://127.0.0.1:${port}/ws`)).rejects.toThrow(/404/);
    },
    TIMEOUT,
  );

  it(
    'a port already in use exits 1 with the reason on stderr',
    async () => {
      const { port } = await startServer();
      const { code, stdout, stderr } = await runCli([
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--log-level',
        'silent',
      ]);
      expect(code).toBe(1);
      expect(stdout).not.toContain('listening');
      expect(stderr).toContain(`Cannot listen on 127.0.0.1:${port}`);
    },
    TIMEOUT,
  );
});
