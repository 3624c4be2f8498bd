import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Effect } from 'effect';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readServerConfig } from '../../../src/server/config.js';
import { HubServer } from '../../../src/server/hub-server.js';
import { layer } from '../../../src/server/hub-server-live.js';
import { SETTINGS } from '../../../src/server/settings.js';
import { killAll } from '../../support/hub-process.js';
import { JsonClient } from '../../support/json-client.js';
import { selfSignedCert, type TestCert } from '../../support/tls-cert.js';
import { connect, silentLogger } from '../../support/ws-client.js';

/**
 * TLS in the standalone server (--tls-cert / --tls-key): https:// and wss:// with a certificate
 * openssl makes at test time, the real CLI's exit 2 on a bad file, and SIGHUP reloading the
 * certificate (told apart by the fingerprint the server presents).
 */

/** A spawned CLI starts in ~0.3 s idle, several seconds on a loaded machine: bounds, not speeds. */
const TIMEOUT = 30_000;
const cliPath = fileURLToPath(new URL('../../../dist/src/server/cli.js', import.meta.url));
let dir: string;
let first: TestCert;
let second: TestCert;

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'actorhub-tls-'));
  [first, second] = await Promise.all([selfSignedCert(dir, 'first'), selfSignedCert(dir, 'second')]);
}, TIMEOUT);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Cli {
  readonly child: ChildProcess;
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}
const running = new Set<ChildProcess>();
afterEach(() => killAll(running));

/** The real CLI with only the given flags (the settings' variables removed from its environment). */
function spawnCli(args: string[]): Cli {
  const names = new Set<string>(SETTINGS.map((s) => s.env));
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !names.has(name)));
  const child = spawn(process.execPath, [cliPath, '--port', '0', '--host', '127.0.0.1', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  // 'close': exited and stdio drained, so `out` is complete.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out, exited };
}

/** Resolves once stdout has matched `pattern` `count` times (on data events); rejects if the process exits first. */
function waitForStdout(cli: Cli, pattern: RegExp, count = 1): Promise<RegExpMatchArray> {
  const global = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const matches = [...cli.out.stdout.matchAll(global)];
      if (matches.length < count) return;
      cli.child.stdout!.off('data', check);
      cli.child.off('exit', onExit);
      resolve(matches[count - 1]!);
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`the CLI exited (${code}) before printing ${pattern}: ${cli.out.stderr}`));
    cli.child.stdout!.on('data', check);
    cli.child.once('exit', onExit);
    check();
  });
}

/** The certificate the server presents to a new TLS connection, by SHA-256 fingerprint. */
function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** A JSON-protocol client over wss:// that trusts only `ca`: its welcome frame. */
async function welcomeOverWss(port: number, ca: Buffer): Promise<{ id: string; client: JsonClient }> {
  const client = new JsonClient(await connect(`wss://localhost:${port}/ws`, { ca }));
  const welcome = await client.next('welcome');
  return { id: welcome.id, client };
}

describe('TLS: https:// and wss:// from the same port', () => {
  it(
    'a client trusting the certificate gets its welcome over wss://, and the routes answer over https://',
    async () => {
      const config = await Effect.runPromise(
        readServerConfig({
          PORT: '0',
          HOST: '127.0.0.1',
          ACTORHUB_TLS_CERT: first.certFile,
          ACTORHUB_TLS_KEY: first.keyFile,
        }),
      );
      const program = Effect.gen(function* () {
        const { url, port } = yield* HubServer;
        expect(url).toBe(`https://127.0.0.1:${port}`);
        const { id, client } = yield* Effect.promise(() => welcomeOverWss(port, first.cert));
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        client.raw.ws.close();
        const health = yield* Effect.promise(
          () =>
            new Promise<{ status: number; fingerprint: string }>((resolve, reject) =>
              get(`https://localhost:${port}/healthz`, { ca: first.cert }, (res) => {
                const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!
                  .fingerprint256;
                res.resume();
                resolve({ status: res.statusCode!, fingerprint });
              }).once('error', reject),
            ),
        );
        expect(health).toEqual({ status: 200, fingerprint: first.fingerprint });
        // A client that does not trust it is refused by its own TLS check: nothing was served in clear.
        const untrusted = yield* Effect.promise(
          () =>
            new Promise<Error>((resolve) => {
              const ws = new WebSocket(`wss://localhost:${port}/ws`, { ca: second.cert });
              ws.once('error', resolve);
            }),
        );
        expect(untrusted.message).toMatch(/self[- ]signed|unable to verify/i);
      });
      await Effect.runPromise(Effect.provide(program, layer(config, { logger: silentLogger })));
    },
    TIMEOUT,
  );
});

describe('TLS: the CLI refuses a bad file with one sentence and exit code 2', () => {
  const cases: [string, () => Promise<string[]>, RegExp][] = [
    [
      'a missing certificate file',
      async () => ['--tls-cert', join(dir, 'nope.crt'), '--tls-key', first.keyFile],
      /^actorhub: Cannot read the TLS certificate file ".*nope\.crt" \(--tls-cert\): no such file\.\n$/,
    ],
    [
      'a key file that is not PEM',
      async () => {
        const junk = join(dir, 'junk.key');
        await writeFile(junk, 'not a key\n');
        return ['--tls-cert', first.certFile, '--tls-key', junk];
      },
      /^actorhub: The TLS key file ".*junk\.key" \(--tls-key\) holds no unencrypted PEM private key\.\n$/,
    ],
    [
      'a certificate file that is not PEM',
      async () => ['--tls-cert', first.keyFile, '--tls-key', first.keyFile],
      /^actorhub: The TLS certificate file ".*first\.key" \(--tls-cert\) holds no PEM certificate\.\n$/,
    ],
    [
      'a key of another certificate',
      async () => ['--tls-cert', first.certFile, '--tls-key', second.keyFile],
      /^actorhub: The TLS key file ".*second\.key" \(--tls-key\) does not belong to the certificate ".*first\.crt" \(--tls-cert\)\.\n$/,
    ],
    [
      'a certificate without its key',
      async () => ['--tls-cert', first.certFile],
      /^actorhub: Give both --tls-cert and --tls-key \(ACTORHUB_TLS_CERT, ACTORHUB_TLS_KEY\), or neither\.\n$/,
    ],
  ];
  for (const [what, args, sentence] of cases) {
    it(
      what,
      async () => {
        const cli = spawnCli(await args());
        expect(await cli.exited).toBe(2);
        expect(cli.out.stderr).toMatch(sentence);
        expect(cli.out.stdout).toBe('');
      },
      TIMEOUT,
    );
  }
});

describe('TLS: SIGHUP reloads the certificate', () => {
  it(
    'new handshakes get the new certificate; a bad file on reload keeps the one in use and logs an error',
    async () => {
      const live = { certFile: join(dir, 'live.crt'), keyFile: join(dir, 'live.key') };
      await copyFile(first.certFile, live.certFile);
      await copyFile(first.keyFile, live.keyFile);
      const cli = spawnCli(['--tls-cert', live.certFile, '--tls-key', live.keyFile, '--log-level', 'info']);
      const port = Number((await waitForStdout(cli, /^actorhub listening on https:\/\/127\.0\.0\.1:(\d+)$/m))[1]);
      expect(await presentedFingerprint(port)).toBe(first.fingerprint);
      const { client: before } = await welcomeOverWss(port, first.cert);

      await copyFile(second.certFile, live.certFile);
      await copyFile(second.keyFile, live.keyFile);
      cli.child.kill('SIGHUP');
      await waitForStdout(cli, /"msg":"TLS certificates reloaded"/);
      expect(await presentedFingerprint(port)).toBe(second.fingerprint);
      await welcomeOverWss(port, second.cert);
      // The connection made before the reload is still open.
      expect(before.raw.ws.readyState).toBe(WebSocket.OPEN);

      await writeFile(live.keyFile, 'truncated\n');
      cli.child.kill('SIGHUP');
      const failed = await waitForStdout(cli, /^.*"msg":"TLS reload failed; keeping the certificates in use".*$/m);
      expect(JSON.parse(failed[0])).toMatchObject({ level: 50, reason: expect.stringMatching(/live\.key/) });
      expect(await presentedFingerprint(port)).toBe(second.fingerprint);
      await welcomeOverWss(port, second.cert);
      expect(cli.child.exitCode).toBeNull();
    },
    TIMEOUT,
  );
});

describe('TLS and JWT together, in the real CLI', () => {
  it(
    'wss:// with a valid HS256 token gets its welcome as sub; without one, 401 before the handshake',
    async () => {
      const secret = 'a-cli-test-secret-of-at-least-32-bytes';
      const cli = spawnCli([
        '--tls-cert',
        first.certFile,
        '--tls-key',
        first.keyFile,
        '--jwt-secret',
        secret,
        '--log-level',
        'silent',
      ]);
      const port = Number((await waitForStdout(cli, /^actorhub listening on https:\/\/127\.0\.0\.1:(\d+)$/m))[1]);
      const token = await new SignJWT({ sub: 'cli-user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
      const client = new JsonClient(
        await connect(`wss://localhost:${port}/ws`, { ca: first.cert, headers: { authorization: `Bearer ${token}` } }),
      );
      expect((await client.next('welcome')).id).toBe('cli-user');
      const refused = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`wss://localhost:${port}/ws`, { ca: first.cert });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('open', () => reject(new Error('admitted without a token')));
        ws.on('error', reject); // terminate() after the answer reports an error: the promise is already settled
      });
      expect(refused).toBe(401);
    },
    TIMEOUT,
  );
});
