/** GET /stats of the server under test: the number of connected clients, and waiting for it. */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export function statsClients(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/stats', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const clients = (JSON.parse(body) as { clients?: unknown }).clients;
          if (typeof clients !== 'number') throw new Error(`/stats has no "clients": ${body.slice(0, 200)}`);
          resolve(clients);
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('/stats timed out')));
    req.on('error', reject);
  });
}

/** Polls /stats every `everyMs` until it reports `n` clients; throws after timeoutMs. */
export async function waitForClients(
  host: string,
  port: number,
  n: number,
  timeoutMs: number,
  everyMs = 10,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  while (performance.now() < deadline) {
    last = await statsClients(host, port);
    if (last === n) return;
    await sleep(everyMs);
  }
  throw new Error(`/stats reports ${last} clients after ${timeoutMs} ms, expected ${n}`);
}

/** Waits until cond() holds, checking every `everyMs`; returns whether it did before timeoutMs. */
export async function until(cond: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
