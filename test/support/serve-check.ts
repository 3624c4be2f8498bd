import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { WebSocket } from 'ws';

/**
 * Runs a program that should serve a hub until SIGTERM (a README example, compiled to `script`):
 * with PORT=0 on 127.0.0.1 it must print its URL, answer GET /healthz and a WebSocket on /ws, and
 * on SIGTERM close that client with 1001 and exit 0 with nothing on stderr.
 */
export async function expectServesUntilSigterm(script: string, cwd: string): Promise<void> {
  const child = spawn(process.execPath, [script], {
    cwd,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = /https?:\/\/[^\s/]+/.exec(stdout);
        if (found) resolve(found[0]);
      });
      void exited.then(({ code }) => reject(new Error(`exited (${code}) before printing a URL: ${stderr}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    await health.body?.cancel();
    // A client connected when the signal comes is closed gracefully (1001), then the process exits 0.
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toBe('');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
