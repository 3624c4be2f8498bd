import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SETTINGS } from '../../../src/server/settings.js';
import { killAll } from '../../support/hub-process.js';
import { connect } from '../../support/ws-client.js';

/**
 * `--inspect` and `--inspect --inspect-stately` on the real CLI (dist/src/server/cli.js, a child
 * process): the URLs it prints, the viewer those URLs serve, and the viewer's forwarding to the
 * Stately relay. Its own spawn rather than spawnHub: the test reads the lines printed after
 * "listening on", which spawnHub does not keep.
 */

const cliPath = fileURLToPath(new URL('../../../dist/src/server/cli.js', import.meta.url));
const running = new Set<ChildProcess>();
afterEach(() => killAll(running));

interface Started {
  readonly child: ChildProcess;
  /** The start-up banner, up to its last line (`protocol:`). */
  readonly banner: string;
  readonly exited: Promise<number | null>;
}

/** The environment without anything the CLI reads, so only the flags given here count. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const names = new Set<string>(SETTINGS.map((s) => s.env));
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !names.has(name)));
};

function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [cliPath, '--port', '0', '--host', '127.0.0.1', ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (/\n\s+protocol:.*\n/.test(stdout)) resolve({ child, banner: stdout, exited });
    });
    void exited.then((code) => reject(new Error(`actorhub exited with ${code}: ${stderr.trim()}`)));
  });
}

const line = (banner: string, key: string): string => {
  const m = new RegExp(`^\\s+${key}:\\s+(\\S+)`, 'm').exec(banner);
  if (!m) throw new Error(`no "${key}:" line in:\n${banner}`);
  return m[1]!;
};

const get = (url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
  new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .once('error', reject);
  });

/** The viewer's feed (server-sent events) until its first `init` event, parsed. */
const firstInit = (url: string): Promise<{ hub: { value: unknown }; definitions: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      if (!/^text\/event-stream/.test(res.headers['content-type'] ?? '')) {
        req.destroy();
        return reject(new Error(`not a feed: ${res.statusCode} ${res.headers['content-type']}`));
      }
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        const m = /event: init\ndata: (.*)\n\n/.exec(text);
        if (!m) return;
        req.destroy();
        resolve(JSON.parse(m[1]!) as { hub: { value: unknown }; definitions: Record<string, unknown> });
      });
    });
    req.once('error', reject);
  });

/** What a viewer of the Stately relay receives (as its bridge page does), with a way to await one message. */
async function relayWatcher(url: string) {
  const ws = new WebSocket(url);
  const seen: { type: string; name?: string }[] = [];
  let waiting: { match: (s: { type: string; name?: string }) => boolean; resolve: () => void }[] = [];
  ws.on('message', (data) => {
    const s = JSON.parse(data.toString()) as { type: string; name?: string };
    seen.push(s);
    waiting = waiting.filter((w) => (w.match(s) ? (w.resolve(), false) : true));
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    ws,
    until: (match: (s: { type: string; name?: string }) => boolean): Promise<void> =>
      seen.some(match) ? Promise.resolve() : new Promise((resolve) => waiting.push({ match, resolve })),
  };
}

describe('the CLI with --inspect', () => {
  it('mounts the viewer at /inspect on the hub port, prints its URL, and starts no Stately relay', async () => {
    const hub = await start(['--inspect']);
    const origin = /actorhub listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(hub.banner)![1]!;
    const inspectUrl = line(hub.banner, 'inspect');
    expect(inspectUrl).toBe(`${origin}/inspect`);
    expect(hub.banner).not.toMatch(/^\s+stately:/m);

    const page = await get(inspectUrl);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('data-testid="client-diagram"');

    const init = await firstInit(`${inspectUrl}/events`);
    expect(init.hub.value).toBe('running');
    expect(Object.keys(init.definitions).sort()).toEqual(['client', 'hub']);

    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });

  it('without --inspect, /inspect is not served', async () => {
    const hub = await start([]);
    const origin = /actorhub listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(hub.banner)![1]!;
    expect(hub.banner).not.toMatch(/^\s+inspect:/m);
    expect((await get(`${origin}/inspect`)).status).toBe(404);
  });

  it('--inspect --inspect-stately: the viewer is still served and forwards every actor to the relay', async () => {
    const hub = await start(['--inspect', '--inspect-stately', '--inspect-port', '0']);
    const origin = /actorhub listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(hub.banner)![1]!;
    expect(line(hub.banner, 'inspect')).toBe(`${origin}/inspect`);
    const stately = line(hub.banner, 'stately');
    const relayPort = Number(/^http:\/\/localhost:(\d+)$/.exec(stately)![1]);
    expect(relayPort).toBeGreaterThan(0);
    expect(relayPort).not.toBe(Number(new URL(origin).port));
    expect((await get(`${origin}/inspect`)).status).toBe(200);

    // A page on the relay, as the bridge page connects: the hub actor, then a client that
    // connects now, both reach it through the viewer.
    const relay = await relayWatcher(`ws://localhost:${relayPort}`);
    await relay.until((s) => s.type === '@xstate.actor' && s.name === 'hub');
    const client = await connect(`${origin.replace(/^http/, 'ws')}/ws`);
    await client.received(1);
    const id = (JSON.parse(client.texts[0]!) as { id: string }).id;
    await relay.until((s) => s.type === '@xstate.actor' && s.name === id);
    relay.ws.close();
    client.ws.close();

    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });
});
