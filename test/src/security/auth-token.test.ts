import type { IncomingMessage } from 'node:http';
import type { InspectionEvent } from 'xstate';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { extractToken, selectProtocol, staticTokenAuth } from '../../../src/admission/auth-token.js';
import { createHub } from '../../../src/hub.js';
import { connect, startHub, upgradeStatus, whenCount, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const req = (headers: Record<string, string>, url = '/ws') => ({ headers, url }) as unknown as IncomingMessage;

describe('extractToken', () => {
  it('reads a Bearer Authorization header, a bearer.<token> subprotocol, or ?token= when allowed', () => {
    expect(extractToken(req({ authorization: 'Bearer abc' }))).toBe('abc');
    expect(extractToken(req({ authorization: 'bearer   abc ' }))).toBe('abc');
    expect(extractToken(req({ authorization: 'Basic abc' }))).toBeUndefined();
    expect(extractToken(req({ 'sec-websocket-protocol': 'actorhub, bearer.xyz' }))).toBe('xyz');
    expect(extractToken(req({ 'sec-websocket-protocol': 'bearer.' }))).toBeUndefined();
    // The query string is not a source unless asked for: it ends up in access logs.
    expect(extractToken(req({}, '/ws?token=q'))).toBeUndefined();
    expect(extractToken(req({}, '/ws?token=q'), { from: ['query'] })).toBe('q');
    expect(extractToken(req({}, '/ws?t=q'), { from: ['query'], queryParam: 't' })).toBe('q');
  });

  it('tries the sources in the order given', () => {
    const both = req({ authorization: 'Bearer h', 'sec-websocket-protocol': 'bearer.p' }, '/ws?token=q');
    expect(extractToken(both)).toBe('h');
    expect(extractToken(both, { from: ['protocol', 'header'] })).toBe('p');
    expect(extractToken(both, { from: ['query', 'header'] })).toBe('q');
    expect(extractToken(req({ 'sec-websocket-protocol': 'tok.p' }), { protocolPrefix: 'tok.' })).toBe('p');
  });
});

describe('selectProtocol', () => {
  it('answers the first offered subprotocol that carries no token, never the token', () => {
    const select = selectProtocol('bearer.');
    expect(select(new Set(['bearer.secret', 'actorhub']))).toBe('actorhub');
    expect(select(new Set(['bearer.secret']))).toBe(false);
  });
});

describe('staticTokenAuth', () => {
  it('admits exactly the listed tokens', () => {
    const auth = staticTokenAuth(['s3cret', 'other-token']);
    expect(auth(req({ authorization: 'Bearer s3cret' }))).toBe(true);
    expect(auth(req({ authorization: 'Bearer other-token' }))).toBe(true);
    expect(auth(req({ authorization: 'Bearer s3cre' }))).toBe(false);
    expect(auth(req({ authorization: 'Bearer s3cret-and-more' }))).toBe(false);
    expect(auth(req({}))).toBe(false);
  });
});

describe('a hub with auth.tokens', () => {
  let registers = 0;
  const countRegisters = (e: InspectionEvent): void => {
    if (e.type === '@xstate.event' && e.event.type === 'hub.register') registers++;
  };
  const start = (extra: Parameters<typeof startHub>[0] = {}) => {
    registers = 0;
    return startHub({ auth: { tokens: ['s3cret'] }, inspect: countRegisters, ...extra });
  };
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it('missing or bad token → 401; a foreign Origin with a good token → 403; neither reaches the hub', async () => {
    harness = await start();
    expect(await upgradeStatus(harness.url)).toBe(401);
    expect(await upgradeStatus(harness.url, bearer('wrong'))).toBe(401);
    // Cross-site WebSocket hijacking: a page elsewhere cannot ride on the user's credentials.
    expect(await upgradeStatus(harness.url, { ...bearer('s3cret'), origin: 'https://evil.example' })).toBe(403);
    expect(harness.hub.size).toBe(0);
    expect(harness.hub.stats.connectionsTotal).toBe(0);
    expect(registers).toBe(0);
    expect(await upgradeStatus(harness.url, bearer('s3cret'))).toBe(101);
    expect(registers).toBe(1);
  });

  it('a browser-style client carries the token in a subprotocol; the hub answers the other one', async () => {
    harness = await start();
    let answered: string | undefined;
    const ws = new WebSocket(harness.url, ['actorhub', 'bearer.s3cret']);
    ws.once('upgrade', (res) => (answered = res.headers['sec-websocket-protocol'] as string | undefined));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    expect(ws.protocol).toBe('actorhub');
    expect(answered).toBe('actorhub');
    await whenCount(harness.hub, (n) => n === 1);
    ws.close();
  });

  it('a token-only subprotocol offer is authenticated but never echoed (the client then fails the handshake)', async () => {
    harness = await start();
    let answered: string | undefined = 'not seen';
    const ws = new WebSocket(harness.url, ['bearer.s3cret']);
    ws.once('upgrade', (res) => (answered = res.headers['sec-websocket-protocol'] as string | undefined));
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toMatch(/no subprotocol/i);
    expect(answered).toBeUndefined();
  });

  it('the query string is refused unless auth.from allows it', async () => {
    harness = await start();
    expect(await upgradeStatus(`${harness.url}?token=s3cret`)).toBe(401);
    await harness.stop();
    harness = await start({ auth: { tokens: ['s3cret'], from: ['query'] } });
    expect(await upgradeStatus(`${harness.url}?token=s3cret`)).toBe(101);
    expect(await upgradeStatus(harness.url, bearer('s3cret'))).toBe(401);
  });

  it('refuses auth.tokens together with authenticate(), and an empty list', () => {
    expect(() => createHub({ auth: { tokens: ['a'] }, authenticate: () => true })).toThrow(
      /either auth\.tokens or authenticate/,
    );
    expect(() => createHub({ auth: { tokens: [] } })).toThrow(/non-empty list/);
    expect(() => createHub({ auth: { from: ['cookie' as 'header'] } })).toThrow(/auth\.from/);
  });

  it('extractToken inside your own authenticate() names the client', async () => {
    harness = await startHub({ authenticate: (r) => ({ id: `user-${extractToken(r) ?? 'anonymous'}` }) });
    const c = await connect(harness.url, { headers: { authorization: 'Bearer 42' } });
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.has('user-42')).toBe(true);
    c.ws.close();
  });
});
