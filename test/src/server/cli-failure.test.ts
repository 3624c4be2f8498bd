import { afterEach, expect, it } from 'vitest';
import { connectJson } from '../../support/json-client.js';
import { spawnHub, type HubProcess } from '../../support/hub-process.js';
import { connect } from '../../support/ws-client.js';

let proc: HubProcess | undefined;
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
});

it('the standalone server exits 1 when its hub actor fails, after closing every client with 1011', async () => {
  // The seam of docs/reliability.md: the second registration's isFull guard throws, outside any
  // supervised action, so the hub actor itself fails.
  proc = await spawnHub([], { ACTORHUB_FAILPOINT: 'guard:isFull@2' });
  let stderr = '';
  proc.proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc!.proc.once('exit', (code) => resolve(code)));
  const { client: first } = await connectJson(proc.url);
  expect((await fetch(`${proc.http}/healthz`)).status).toBe(200);
  const second = await connect(proc.url);
  expect(await first.raw.closed).toEqual({ code: 1011, reason: 'internal error' });
  expect((await second.closed).code).toBe(1011);
  expect(await exited).toBe(1);
  expect(stderr).toMatch(
    /actorhub: the hub actor failed \(Unable to evaluate guard 'isFull'[^]*failpoint guard:isFull \(call 2\)[^]*every client was closed with 1011/,
  );
});
