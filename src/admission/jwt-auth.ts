import { createPublicKey, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { HubConfigError } from '../errors.js';
import * as L from '../limits.js';
import type { AuthResult, ClientHandle, Reauthentication, TokenGrant } from '../types.js';
import { extractToken, type TokenOptions } from './auth-token.js';
import { metaProblem } from './client-meta.js';
import { isTopicList } from './topic-grant.js';

/**
 * How jwtAuth verifies tokens: exactly one key source. Verification is jose's (signature,
 * `exp`, `nbf`, and `iss`/`aud` when given); what the claims mean to the hub is here.
 */
export interface JwtAuthOptions extends TokenOptions {
  /** HS256/384/512 shared secret (at least 32 bytes). */
  readonly secret?: string | Uint8Array | undefined;
  /** An RSA, EC or Ed25519 public key: PEM text (SPKI or an X.509 certificate) or a KeyObject. */
  readonly publicKey?: string | KeyObject | undefined;
  /** A JWKS URL (your identity provider's `jwks_uri`), fetched on demand and cached by jose. */
  readonly jwksUrl?: string | URL | undefined;
  /** Algorithms accepted; default: those the key can verify (HS* for a secret, RS/PS* for RSA, ES* for EC...). */
  readonly algorithms?: readonly string[] | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /**
   * Allowed clock difference for `nbf`, seconds (default 5), so a token from an issuer whose clock
   * runs a little ahead is usable at once. In effect not for `exp`: jose would admit an `exp`
   * within the tolerance, but the upgrade and `refresh` then refuse an expiry already passed
   * (`token expired`), since the client would only be closed with 4001 at once.
   */
  readonly clockToleranceSec?: number | undefined;
}

/** A token's verdict: what it grants, or why it does not verify (a sentence fit for an HTTP 401 body or an error frame). */
export type TokenVerdict = TokenGrant | { readonly error: string; readonly status: 401 | 503 };

/**
 * createHub's authenticate hook for JWTs, carrying what `refresh` needs: `reauthenticate`
 * (picked up by createHub when given as `authenticate`) and `verify` for your own use.
 */
export interface JwtAuth {
  (req: IncomingMessage): Promise<AuthResult>;
  /** Verifies one token (from anywhere: a cookie, a first message). */
  verify(token: string): Promise<TokenVerdict>;
  /** The `refresh` command's check: the new token's grant, or why it is refused. */
  reauthenticate(client: ClientHandle, token: string): Promise<Reauthentication>;
}

const HMAC = ['HS256', 'HS384', 'HS512'];
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC: Record<string, string[]> = { prime256v1: ['ES256'], secp384r1: ['ES384'], secp521r1: ['ES512'] };
/** A JWKS may hold any asymmetric key; never an HMAC algorithm (a public key used as a shared secret). */
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const configError = (message: string): HubConfigError => new HubConfigError({ reason: 'invalid-value', message });

/** The algorithms a public key can verify, so that a token cannot pick another. */
const algorithmsOf = (key: KeyObject): string[] => {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA;
    case 'rsa-pss':
      return RSA.filter((a) => a.startsWith('PS'));
    case 'ec':
      return EC[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? [];
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
};

interface Verifier {
  readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  readonly algorithms: readonly string[];
}

const verifierOf = (options: JwtAuthOptions): Verifier => {
  const given = [options.secret, options.publicKey, options.jwksUrl].filter((k) => k !== undefined).length;
  if (given !== 1) throw configError('Give jwtAuth exactly one of secret (HS256), publicKey (RS256/ES256) or jwksUrl.');
  if (options.secret !== undefined) {
    const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    if (key.byteLength < L.JWT_MIN_SECRET_BYTES)
      throw configError(
        `The JWT secret must be at least ${L.JWT_MIN_SECRET_BYTES} bytes (it has ${key.byteLength}): a shorter one can be guessed offline from any token.`,
      );
    return { key, algorithms: options.algorithms ?? HMAC };
  }
  if (options.publicKey !== undefined) {
    let key: KeyObject;
    try {
      key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
    } catch {
      throw configError('The JWT public key is not a PEM public key or certificate.');
    }
    if (key.type !== 'public') throw configError('The JWT public key is a private key: give its public half.');
    const algorithms = options.algorithms ?? algorithmsOf(key);
    if (algorithms.length === 0)
      throw configError(
        `The JWT public key's type (${key.asymmetricKeyType ?? 'unknown'}) is not one jwtAuth verifies.`,
      );
    return { key, algorithms };
  }
  let url: URL;
  try {
    url = new URL(options.jwksUrl!);
  } catch {
    throw configError(`The JWKS URL "${String(options.jwksUrl)}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw configError(`The JWKS URL must be https:// (or http:// on a trusted network), got "${url.href}".`);
  return {
    key: createRemoteJWKSet(url, { timeoutDuration: L.JWKS_TIMEOUT_MS, cooldownDuration: L.JWKS_COOLDOWN_MS }),
    algorithms: options.algorithms ?? ASYMMETRIC,
  };
};

/** What the claims grant: `sub` the id, `meta` the presence metadata, `exp` the expiry, `topics` the topics. */
const grantOf = (payload: JWTPayload): TokenVerdict => {
  const { sub, exp, meta, topics } = payload as JWTPayload & { meta?: unknown; topics?: unknown };
  if (sub !== undefined && (sub.length === 0 || sub.length > 256))
    return { error: 'invalid token: sub must be 1 to 256 characters', status: 401 };
  if (topics !== undefined && !isTopicList(topics))
    return { error: 'invalid token: topics must be a list of topic names or prefix* patterns', status: 401 };
  const metaWrong = metaProblem(meta);
  if (metaWrong !== undefined) return { error: `invalid token: ${metaWrong}`, status: 401 };
  return {
    ...(sub === undefined ? {} : { id: sub }),
    ...(meta === undefined ? {} : { meta }),
    ...(exp === undefined ? {} : { expiresAt: exp * 1000 }),
    ...(topics === undefined ? {} : { topics }),
  };
};

/** jose's refusal as a sentence; a key that cannot be fetched is the hub's problem (503), not the client's. */
const refusalOf = (error: unknown): { error: string; status: 401 | 503 } => {
  if (error instanceof errors.JWTExpired) return { error: 'token expired', status: 401 };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return { error: 'token not yet valid', status: 401 };
    return {
      error: `invalid token: ${error.claim} ${error.reason === 'missing' ? 'missing' : 'not accepted'}`,
      status: 401,
    };
  }
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID'))
    return { error: 'the signing keys could not be fetched', status: 503 };
  if (!(error instanceof errors.JOSEError)) return { error: 'the signing keys could not be fetched', status: 503 };
  return { error: 'invalid token', status: 401 };
};

/**
 * Verifies JWTs at the upgrade (HTTP 401 before the handshake when missing, invalid, expired or
 * not yet valid) and on `refresh`. The token travels as every token does (auth.from: header,
 * subprotocol, query). `sub` becomes the client id, `meta` its presence metadata, `exp` its
 * expiry (closed with 4001 then unless refreshed) and `topics` the topics it may use.
 *
 * ```ts
 * createHub({ authenticate: jwtAuth({ secret: process.env.JWT_SECRET! }) });
 * ```
 *
 * Throws a HubConfigError for a missing or unusable key.
 */
export function jwtAuth(options: JwtAuthOptions): JwtAuth {
  const { key, algorithms } = verifierOf(options);
  const verifyOptions = {
    algorithms: [...algorithms],
    clockTolerance: options.clockToleranceSec ?? L.JWT_CLOCK_TOLERANCE_SEC,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  const verify = async (token: string): Promise<TokenVerdict> => {
    try {
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions);
      return grantOf(payload);
    } catch (error) {
      return refusalOf(error);
    }
  };
  const authenticate = async (req: IncomingMessage): Promise<AuthResult> => {
    const token = extractToken(req, options);
    if (token === undefined) return { reject: 401, message: 'missing token' };
    const verdict = await verify(token);
    return 'error' in verdict ? { reject: verdict.status, message: verdict.error } : verdict;
  };
  return Object.assign(authenticate, {
    verify,
    reauthenticate: async (_client: ClientHandle, token: string): Promise<Reauthentication> => {
      const verdict = await verify(token);
      return 'error' in verdict ? { error: verdict.error } : verdict;
    },
  });
}
