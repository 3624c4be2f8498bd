import { SignJWT, type JWTPayload } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { jwtAuth } from '../../../src/admission/jwt-auth.js';
import { createClient, type ClientState, type HubClient, type StateDetail } from '../../../src/client/index.js';
import { startHub, type Harness } from '../../support/ws-client.js';

/**
 * The SDK's `client.refresh(token)` against a real hub verifying real HS256 tokens (jose) over
 * real sockets on port 0. Expiries are a few whole seconds away (a JWT's `exp` is in seconds)
 * and every wait is an event: a state change, a close, an answer; never a sleep.
 */

/** A bound for a loaded machine (tokens expire 2 to 4 s after they are signed: a margin to connect and refresh first), not a speed. */
const TIMEOUT = 20_000;
const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const now = (): number => Math.floor(Date.now() / 1000);
const hs256 = (claims: JWTPayload): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function jwtHub(): Promise<Harness> {
  // No clock tolerance: the expiries below are exact to the second.
  const h = await startHub({ authenticate: jwtAuth({ secret: SECRET, clockToleranceSec: 0 }) });
  cleanups.push(() => h.stop());
  return h;
}

/** A connected SDK client whose token() signs `claims`, with every state change it goes through. */
async function connected(url: string, claims: () => JWTPayload): Promise<{ c: HubClient; states: ClientState[] }> {
  const c = createClient(url, {
    WebSocket,
    token: () => hs256(claims()),
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  });
  cleanups.push(() => c.close());
  const states: ClientState[] = [];
  c.on('state', (s) => states.push(s));
  await next(c, 'connected');
  return { c, states };
}

/** The detail of the client's next move to `state`. */
function next(c: HubClient, state: ClientState): Promise<StateDetail> {
  return new Promise((resolve) => {
    const off = c.on('state', (s, detail) => {
      if (s !== state) return;
      off();
      resolve(detail);
    });
  });
}

describe('client.refresh()', { timeout: TIMEOUT }, () => {
  it('moves the expiry: the client outlives its old exp, while a witness with a later exp is closed with 4001', async () => {
    const h = await jwtHub();
    const exp = now() + 3;
    const { c: keeper, states } = await connected(h.url, () => ({ sub: 'keeper', exp }));
    // The witness expires a second after the keeper's old exp: once it is closed, the keeper's
    // old expiry has passed too, and the keeper would have been closed first without the refresh.
    const { c: witness } = await connected(h.url, () => ({ sub: 'witness', exp: exp + 1 }));
    const witnessClosed = next(witness, 'reconnecting');
    const later = now() + 3600;
    expect(await keeper.refresh(await hs256({ sub: 'keeper', exp: later }))).toEqual({ exp: later });
    expect((await witnessClosed).code).toBe(4001);
    expect(keeper.state).toBe('connected');
    expect(states).toEqual(['connected']);
    expect(h.hub.has('keeper')).toBe(true);
    expect(await keeper.publish('still-here', 1)).toMatchObject({ delivered: 0 });
  });

  it('a refresh without exp: the connection no longer expires', async () => {
    const h = await jwtHub();
    const exp = now() + 3;
    const { c: keeper, states } = await connected(h.url, () => ({ sub: 'keeper', exp }));
    const { c: witness } = await connected(h.url, () => ({ sub: 'witness', exp: exp + 1 }));
    const witnessClosed = next(witness, 'reconnecting');
    expect(await keeper.refresh(await hs256({ sub: 'keeper' }))).toEqual({ exp: null });
    expect((await witnessClosed).code).toBe(4001);
    expect(states).toEqual(['connected']);
  });

  it('commands sent right after a refresh wait for its answer: they run under the new topics claim', async () => {
    const h = await jwtHub();
    const { c } = await connected(h.url, () => ({ sub: 'ann', exp: now() + 600, topics: ['old'] }));
    const token = await hs256({ sub: 'ann', exp: now() + 600, topics: ['new:*'] });
    // Neither call is awaited before the next is sent: were the publishes handled before the
    // refresh's (asynchronous) verification ended, they would be judged by the old claim.
    const refreshed = c.refresh(token);
    const allowed = c.publish('new:1', 'hi');
    const refused = c.publish('old', 'hi');
    expect(await refreshed).toMatchObject({ exp: expect.any(Number) });
    expect(await allowed).toMatchObject({ delivered: 0 });
    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    expect(h.hub.stats.connectionsTotal).toBe(1);
  });

  it('a token for another sub is refused with invalid_token; the connection stays and its old expiry stands', async () => {
    const h = await jwtHub();
    const exp = now() + 3;
    let issued = 0;
    // The first token expires in 3 s; the one a reconnect asks for does not.
    const { c, states } = await connected(h.url, () => (issued++ === 0 ? { sub: 'carol', exp } : { sub: 'carol' }));
    await expect(c.refresh(await hs256({ sub: 'mallory', exp: now() + 3600 }))).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'the token was issued for another client id',
    });
    expect(c.state).toBe('connected');
    expect(await c.publish('still-here', 1)).toMatchObject({ delivered: 0 });
    expect(h.hub.has('mallory')).toBe(false);
    // The refused refresh changed nothing: the hub closes carol at her first token's exp.
    expect((await next(c, 'reconnecting')).code).toBe(4001);
    await next(c, 'connected');
    expect(states).toEqual(['connected', 'reconnecting', 'connected']);
  });
});
