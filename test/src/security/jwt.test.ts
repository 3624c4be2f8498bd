import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Effect } from 'effect';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { WebSocket, type ClientOptions } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { jwtAuth, type JwtAuthOptions } from '../../../src/admission/jwt-auth.js';
import { HubConfigError } from '../../../src/errors.js';
import { readServerConfig } from '../../../src/server/config.js';
import type { HubOptions } from '../../../src/types.js';
import { JsonClient } from '../../support/json-client.js';
import { connect, startHub, TestClient, whenCount, type Harness } from '../../support/ws-client.js';

/**
 * JWT authentication over real sockets with real signed tokens (jose): HS256 with a secret,
 * RS256 with a PEM public key, ES256 from a JWKS served on a local port. Refusals are HTTP 401
 * before the handshake; a connected client's expiry closes it with 4001 unless it refreshes.
 */

/** Bounds for a loaded machine (RSA key generation, CLI-free but real sockets and timers), not speeds. */
const TIMEOUT = 20_000;
const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const now = (): number => Math.floor(Date.now() / 1000);

const harnesses: Harness[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function hubWith(options: JwtAuthOptions, extra: HubOptions = {}): Promise<Harness> {
  const h = await startHub({ authenticate: jwtAuth({ clockToleranceSec: 0, ...options }), ...extra });
  harnesses.push(h);
  return h;
}

const hs256 = (claims: JWTPayload, secret = SECRET): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

const sign = (claims: JWTPayload, key: CryptoKey, header: { alg: string; kid?: string }): Promise<string> =>
  new SignJWT(claims).setProtectedHeader(header).sign(key);

/** The upgrade's answer: 101, or the refusal's status and body. */
function upgrade(url: string, options: ClientOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: body.trim() });
        ws.terminate();
      });
    });
    ws.once('open', () => {
      resolve({ status: 101, body: '' });
      ws.close();
    });
    ws.once('error', reject);
  });
}

const bearer = (token: string): ClientOptions => ({ headers: { authorization: `Bearer ${token}` } });

async function welcomed(url: string, token: string): Promise<{ client: JsonClient; id: string }> {
  const client = new JsonClient(await connect(url, bearer(token)));
  const welcome = await client.next('welcome');
  return { client, id: welcome.id };
}

describe('jwtAuth with a secret (HS256)', { timeout: TIMEOUT }, () => {
  it('admits a valid token: sub is the client id, meta its presence metadata', async () => {
    const h = await hubWith({ secret: SECRET });
    const token = await hs256({ sub: 'ann', meta: { name: 'Ann' }, exp: now() + 600 });
    const { client, id } = await welcomed(h.url, token);
    expect(id).toBe('ann');
    expect(h.hub.client('ann')?.meta).toEqual({ name: 'Ann' });
    expect((await client.call({ type: 'subscribe', topic: 'room' })).type).toBe('ack');
    expect(await client.call({ type: 'presence', topic: 'room' })).toMatchObject({
      type: 'ack',
      result: { members: [{ id: 'ann', meta: { name: 'Ann' } }] },
    });
  });

  it('takes the token from the bearer.<token> subprotocol and answers the other one', async () => {
    const h = await hubWith({ secret: SECRET });
    const token = await hs256({ sub: 'bob' });
    const ws = new WebSocket(h.url, ['actorhub', `bearer.${token}`]);
    const client = new JsonClient(new TestClient(ws));
    expect((await client.next('welcome')).id).toBe('bob');
    expect(ws.protocol).toBe('actorhub');
  });

  it('refuses with 401 before the handshake: no token, a bad signature, expired, not yet valid, a bad claim', async () => {
    const h = await hubWith({ secret: SECRET });
    const cases: [ClientOptions, string][] = [
      [{}, 'missing token'],
      [bearer(await hs256({ sub: 'x' }, 'another-secret-that-is-32-bytes-long')), 'invalid token'],
      [bearer('not.a.jwt'), 'invalid token'],
      [bearer(await hs256({ sub: 'x', exp: now() - 10 })), 'token expired'],
      [bearer(await hs256({ sub: 'x', nbf: now() + 600 })), 'token not yet valid'],
      [
        bearer(await hs256({ sub: 'x', topics: 'chat' })),
        'invalid token: topics must be a list of topic names or prefix* patterns',
      ],
    ];
    for (const [options, body] of cases) expect(await upgrade(h.url, options)).toEqual({ status: 401, body });
    // The hub never saw any of them.
    expect(h.hub.stats.connectionsTotal).toBe(0);
    expect(h.hub.stats.rejectedByStatus[401]).toBe(cases.length);
  });

  it('the clock tolerance admits an nbf a little ahead, never an exp already passed', async () => {
    const h = await hubWith({ secret: SECRET, clockToleranceSec: 30 });
    // nbf 10 s ahead of this clock: within the 30 s tolerance, so a skewed issuer's fresh token works.
    expect(await upgrade(h.url, bearer(await hs256({ sub: 'early', nbf: now() + 10 })))).toEqual({
      status: 101,
      body: '',
    });
    // exp 10 s ago: jose alone would admit it within the tolerance, and the client would be closed with 4001 at once.
    expect(await upgrade(h.url, bearer(await hs256({ sub: 'late', exp: now() - 10 })))).toEqual({
      status: 401,
      body: 'token expired',
    });
  });

  it('a token with the none algorithm, or an HS256 token under an RSA key, is refused', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    const h = await hubWith({ secret: SECRET });
    expect(await upgrade(h.url, bearer(unsigned))).toEqual({ status: 401, body: 'invalid token' });
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const rsa = await hubWith({ publicKey: pem });
    // Algorithm confusion: the public key's PEM text used as an HMAC secret.
    expect(await upgrade(rsa.url, bearer(await hs256({ sub: 'x' }, pem)))).toEqual({
      status: 401,
      body: 'invalid token',
    });
  });
});

describe('jwtAuth with a public key (RS256) and a JWKS (ES256)', { timeout: TIMEOUT }, () => {
  it('RS256: a token signed by the private key is admitted; one signed by another key is not', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const other = await generateKeyPair('RS256');
    const h = await hubWith({ publicKey: await exportSPKI(publicKey) });
    expect((await welcomed(h.url, await sign({ sub: 'rsa-user' }, privateKey, { alg: 'RS256' }))).id).toBe('rsa-user');
    expect(await upgrade(h.url, bearer(await sign({ sub: 'x' }, other.privateKey, { alg: 'RS256' })))).toEqual({
      status: 401,
      body: 'invalid token',
    });
  });

  it('JWKS: the key named by kid is fetched from the URL; an unknown kid is refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const stranger = await generateKeyPair('ES256');
    let fetches = 0;
    const jwks = createServer((_req, res) => {
      fetches++;
      void exportJWK(publicKey).then((jwk) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] })),
      );
    });
    servers.push(jwks);
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const h = await hubWith({ jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` });
    const token = await sign({ sub: 'ec-user' }, privateKey, { alg: 'ES256', kid: 'k1' });
    expect((await welcomed(h.url, token)).id).toBe('ec-user');
    expect(fetches).toBe(1);
    expect(
      await upgrade(h.url, bearer(await sign({ sub: 'x' }, stranger.privateKey, { alg: 'ES256', kid: 'k2' }))),
    ).toEqual({ status: 401, body: 'invalid token' });
  });

  it('an unreachable JWKS is the hub’s problem: 503, not 401', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const h = await hubWith({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
    const { privateKey } = await generateKeyPair('ES256');
    expect(await upgrade(h.url, bearer(await sign({ sub: 'x' }, privateKey, { alg: 'ES256', kid: 'k1' })))).toEqual({
      status: 503,
      body: 'the signing keys could not be fetched',
    });
  });

  it('refuses unusable keys at construction with a HubConfigError', () => {
    expect(() => jwtAuth({ secret: 'short' })).toThrow(HubConfigError);
    expect(() => jwtAuth({ secret: 'short' })).toThrow(/at least 32 bytes \(it has 5\)/);
    expect(() => jwtAuth({})).toThrow(/exactly one of/);
    expect(() => jwtAuth({ secret: SECRET, jwksUrl: 'https://example.com/jwks' })).toThrow(/exactly one of/);
    expect(() => jwtAuth({ publicKey: 'not a pem' })).toThrow(/not a PEM public key/);
    expect(() => jwtAuth({ jwksUrl: 'ftp://example.com/jwks' })).toThrow(/must be https:\/\//);
  });
});

describe('expiry and refresh', { timeout: TIMEOUT }, () => {
  it('a connected client whose token expires is closed with 4001 and unregistered', async () => {
    const h = await hubWith({ secret: SECRET });
    const { client } = await welcomed(h.url, await hs256({ sub: 'short', exp: now() + 2 }));
    expect(await client.raw.closed).toEqual({ code: 4001, reason: 'token expired' });
    await whenCount(h.hub, (n) => n === 0);
  });

  it('refresh with a new token moves the expiry (acked with the new exp); a witness without refresh is closed', async () => {
    const h = await hubWith({ secret: SECRET });
    const exp = now() + 2;
    const { client } = await welcomed(h.url, await hs256({ sub: 'keeper', exp }));
    // Its old expiry comes before the witness's: if the refresh did not move it, it would be closed first.
    const { client: witness } = await welcomed(h.url, await hs256({ sub: 'witness', exp: exp + 1 }));
    const later = now() + 3600;
    expect(await client.call({ type: 'refresh', token: await hs256({ sub: 'keeper', exp: later }) })).toMatchObject({
      type: 'ack',
      result: { exp: later },
    });
    expect(await witness.raw.closed).toEqual({ code: 4001, reason: 'token expired' });
    expect(client.raw.ws.readyState).toBe(WebSocket.OPEN);
    expect((await client.call({ type: 'ping' })).type).toBe('ack');
    expect(h.hub.has('keeper')).toBe(true);
  });

  it('refresh refuses a bad token, an expired one, or one for another client, and the connection stays', async () => {
    const h = await hubWith({ secret: SECRET });
    const { client } = await welcomed(h.url, await hs256({ sub: 'carol', exp: now() + 600 }));
    const refused = async (token: string) => client.call({ type: 'refresh', token });
    expect(await refused('garbage')).toMatchObject({ type: 'error', code: 'invalid_token', message: 'invalid token' });
    expect(await refused(await hs256({ sub: 'carol', exp: now() - 5 }))).toMatchObject({
      code: 'invalid_token',
      message: 'token expired',
    });
    expect(await refused(await hs256({ sub: 'mallory', exp: now() + 600 }))).toMatchObject({
      code: 'invalid_token',
      message: 'the token was issued for another client id',
    });
    expect(await client.call({ type: 'refresh', token: '' })).toMatchObject({ code: 'invalid_frame' });
    expect((await client.call({ type: 'ping' })).type).toBe('ack');
  });

  it('refresh on a hub that verifies no tokens answers refresh_unsupported', async () => {
    const h = await startHub();
    harnesses.push(h);
    const client = new JsonClient(await connect(h.url));
    await client.next('welcome');
    expect(await client.call({ type: 'refresh', token: 'anything' })).toMatchObject({
      type: 'error',
      code: 'refresh_unsupported',
    });
  });

  it('an expiry beyond what setTimeout can wait (24.8 days) is waited for in bounded steps', async () => {
    // Unbounded, Node would warn and fire the timer every millisecond until then.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const h = await hubWith({ secret: SECRET });
      const { client } = await welcomed(h.url, await hs256({ sub: 'far', exp: now() + 40 * 24 * 3600 }));
      expect((await client.call({ type: 'ping' })).type).toBe('ack');
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(client.raw.ws.readyState).toBe(WebSocket.OPEN);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('the topics claim', { timeout: TIMEOUT }, () => {
  it('limits subscribe, publish and history to the names and prefix* patterns it lists', async () => {
    const h = await hubWith({ secret: SECRET });
    const { client } = await welcomed(h.url, await hs256({ sub: 'dan', topics: ['chat:*', 'news'] }));
    expect((await client.call({ type: 'subscribe', topic: 'chat:1' })).type).toBe('ack');
    expect((await client.call({ type: 'subscribe', topic: 'news' })).type).toBe('ack');
    expect(await client.call({ type: 'subscribe', topic: 'admin' })).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'your token does not allow you to subscribe to "admin"',
    });
    expect(await client.call({ type: 'publish', topic: 'admin', data: 1 })).toMatchObject({ code: 'forbidden' });
    expect(await client.call({ type: 'publish', topic: 'newsroom', data: 1 })).toMatchObject({ code: 'forbidden' });
    expect((await client.call({ type: 'publish', topic: 'news', data: 1 })).type).toBe('ack');
    expect(h.hub.isMember('dan', 'admin')).toBe(false);
  });

  it('an empty list allows no topic; a refresh replaces the list', async () => {
    const h = await hubWith({ secret: SECRET });
    const { client } = await welcomed(h.url, await hs256({ sub: 'eve', topics: [] }));
    expect(await client.call({ type: 'subscribe', topic: 'a' })).toMatchObject({ code: 'forbidden' });
    expect((await client.call({ type: 'refresh', token: await hs256({ sub: 'eve', topics: ['a'] }) })).type).toBe(
      'ack',
    );
    expect((await client.call({ type: 'subscribe', topic: 'a' })).type).toBe('ack');
    expect(await client.call({ type: 'subscribe', topic: 'b' })).toMatchObject({ code: 'forbidden' });
  });

  it('another client without the claim is not limited', async () => {
    const h = await hubWith({ secret: SECRET });
    const { client } = await welcomed(h.url, await hs256({ sub: 'free' }));
    expect((await client.call({ type: 'subscribe', topic: 'admin' })).type).toBe('ack');
  });
});

describe('the standalone server’s JWT settings', { timeout: TIMEOUT }, () => {
  const read = (env: Record<string, string>) =>
    Effect.runPromise(Effect.flip(readServerConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env })));

  it('refuses two keys, a short secret, a missing public key file, or static tokens alongside', async () => {
    expect((await read({ ACTORHUB_JWT_SECRET: SECRET, ACTORHUB_JWT_JWKS: 'https://idp.example/jwks' })).message).toBe(
      'Give one JWT key, not --jwt-secret and --jwt-jwks.',
    );
    expect((await read({ ACTORHUB_JWT_SECRET: 'short' })).message).toMatch(/^The JWT secret must be at least 32 bytes/);
    expect((await read({ ACTORHUB_JWT_PUBLIC_KEY: '/nonexistent/key.pem' })).message).toBe(
      'Cannot read the JWT public key file "/nonexistent/key.pem" (--jwt-public-key): no such file.',
    );
    expect((await read({ ACTORHUB_JWT_SECRET: SECRET, ACTORHUB_AUTH_TOKENS: 'x' })).message).toBe(
      'Give either --auth-token (static tokens) or a JWT key, not both.',
    );
    expect((await read({ ACTORHUB_JWT_ISSUER: 'me' })).message).toMatch(/need a JWT key/);
  });

  it('--jwt-secret makes the hub verify tokens, with --token-from', async () => {
    const config = await Effect.runPromise(
      readServerConfig({ ACTORHUB_JWT_SECRET: SECRET, ACTORHUB_TOKEN_FROM: 'query' }),
    );
    const h = await startHub(config.hub);
    harnesses.push(h);
    const token = await hs256({ sub: 'q' });
    expect((await upgrade(h.url, bearer(token))).status).toBe(401); // header not allowed here
    const client = new JsonClient(await connect(`${h.url}?token=${token}`));
    expect((await client.next('welcome')).id).toBe('q');
  });
});
