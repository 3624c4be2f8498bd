import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isOriginAllowed, type OriginPolicy } from '../../../src/admission/origin.js';

/** Just the headers isOriginAllowed reads; origin undefined / host null mean "header absent". */
const req = (origin: string | undefined, host: string | null = 'example.com'): IncomingMessage => {
  const headers: Record<string, string> = {};
  if (origin !== undefined) headers.origin = origin;
  if (host !== null) headers.host = host;
  return { headers } as unknown as IncomingMessage;
};

describe('isOriginAllowed: requests without an Origin header (not from a browser page)', () => {
  it.each<[string, OriginPolicy]>([
    ['same-origin', 'same-origin'],
    ['*', '*'],
    ['a list', ['https://app.example.com']],
    ['an empty list', []],
  ])('are allowed by %s', (_name, policy) => {
    expect(isOriginAllowed(policy, req(undefined))).toBe(true);
    expect(isOriginAllowed(policy, req(undefined, null))).toBe(true);
  });
});

describe("isOriginAllowed: '*'", () => {
  it('allows any origin, even an opaque or malformed one', () => {
    expect(isOriginAllowed('*', req('https://evil.example'))).toBe(true);
    expect(isOriginAllowed('*', req('null'))).toBe(true);
    expect(isOriginAllowed('*', req('not a url'))).toBe(true);
  });
});

describe("isOriginAllowed: 'same-origin'", () => {
  it('allows an Origin whose host equals the Host header', () => {
    expect(isOriginAllowed('same-origin', req('http://example.com', 'example.com'))).toBe(true);
    expect(isOriginAllowed('same-origin', req('https://example.com', 'example.com'))).toBe(true);
  });

  it('allows a matching host and port', () => {
    expect(isOriginAllowed('same-origin', req('http://localhost:8080', 'localhost:8080'))).toBe(true);
    expect(isOriginAllowed('same-origin', req('http://127.0.0.1:54321', '127.0.0.1:54321'))).toBe(true);
  });

  it('allows an IPv6 host and port', () => {
    expect(isOriginAllowed('same-origin', req('http://[::1]:8080', '[::1]:8080'))).toBe(true);
  });

  it('compares hosts case-insensitively (Origin side and Host side)', () => {
    expect(isOriginAllowed('same-origin', req('https://EXAMPLE.com', 'example.com'))).toBe(true);
    expect(isOriginAllowed('same-origin', req('https://example.com', 'Example.COM'))).toBe(true);
    expect(isOriginAllowed('same-origin', req('HTTP://Example.Com:9000', 'EXAMPLE.COM:9000'))).toBe(true);
  });

  it('refuses a different host', () => {
    expect(isOriginAllowed('same-origin', req('https://evil.com', 'example.com'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('https://example.com.evil.com', 'example.com'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('https://sub.example.com', 'example.com'))).toBe(false);
  });

  it('refuses a different port', () => {
    expect(isOriginAllowed('same-origin', req('http://localhost:3000', 'localhost:8080'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('http://localhost:3000', 'localhost'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('http://localhost', 'localhost:8080'))).toBe(false);
  });

  it('refuses an Origin when there is no Host header to compare with', () => {
    expect(isOriginAllowed('same-origin', req('http://example.com', null))).toBe(false);
  });

  it('refuses the opaque origin "null" (sandboxed iframes, file:, data:)', () => {
    expect(isOriginAllowed('same-origin', req('null', 'null'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('null'))).toBe(false);
  });

  it('refuses a malformed Origin', () => {
    expect(isOriginAllowed('same-origin', req('example.com', 'example.com'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('not a url', 'example.com'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('', 'example.com'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('http://', 'example.com'))).toBe(false);
  });

  it('refuses an opaque-origin scheme such as file: or data:', () => {
    expect(isOriginAllowed('same-origin', req('file:///etc/passwd', 'example.com'))).toBe(false);
    expect(isOriginAllowed('same-origin', req('data:text/html,hi', 'example.com'))).toBe(false);
  });
});

describe('isOriginAllowed: a list of origins', () => {
  const list = ['https://app.example.com', 'http://localhost:3000/'];

  it('allows an origin on the list', () => {
    expect(isOriginAllowed(list, req('https://app.example.com'))).toBe(true);
    expect(isOriginAllowed(list, req('http://localhost:3000'))).toBe(true);
  });

  it('ignores a trailing slash on either side', () => {
    expect(isOriginAllowed(list, req('https://app.example.com/'))).toBe(true);
    expect(isOriginAllowed(['https://app.example.com/'], req('https://app.example.com'))).toBe(true);
    expect(isOriginAllowed(['https://app.example.com'], req('https://app.example.com/'))).toBe(true);
  });

  it('compares case-insensitively', () => {
    expect(isOriginAllowed(list, req('https://APP.Example.com'))).toBe(true);
    expect(isOriginAllowed(['HTTPS://App.EXAMPLE.com'], req('https://app.example.com'))).toBe(true);
  });

  it('treats an explicit default port as the same origin', () => {
    expect(isOriginAllowed(list, req('https://app.example.com:443'))).toBe(true);
  });

  it('refuses an origin not on the list: other host, scheme or port', () => {
    expect(isOriginAllowed(list, req('https://evil.example.com'))).toBe(false);
    expect(isOriginAllowed(list, req('http://app.example.com'))).toBe(false); // scheme differs
    expect(isOriginAllowed(list, req('https://app.example.com:8443'))).toBe(false); // port differs
    expect(isOriginAllowed(list, req('http://localhost:3001'))).toBe(false);
    expect(isOriginAllowed(list, req('http://localhost'))).toBe(false);
  });

  it('does not match by prefix or suffix', () => {
    expect(isOriginAllowed(list, req('https://app.example.com.evil.com'))).toBe(false);
    expect(isOriginAllowed(['https://example.com'], req('https://app.example.com'))).toBe(false);
  });

  it('ignores the Host header', () => {
    expect(isOriginAllowed(list, req('https://app.example.com', 'something-else.test'))).toBe(true);
    expect(isOriginAllowed(list, req('https://evil.com', 'evil.com'))).toBe(false);
  });

  it('refuses "null" and malformed origins, even if the list contains such strings', () => {
    expect(isOriginAllowed(['null'], req('null'))).toBe(false);
    expect(isOriginAllowed(['not a url'], req('not a url'))).toBe(false);
    expect(isOriginAllowed(list, req('null'))).toBe(false);
  });

  it('an empty list refuses every browser origin', () => {
    expect(isOriginAllowed([], req('https://example.com', 'example.com'))).toBe(false);
  });
});

describe('isOriginAllowed: a predicate', () => {
  it('receives the raw Origin and the request', () => {
    const calls: [string | undefined, IncomingMessage][] = [];
    const r = req('https://Some.Origin:444', 'host.test');
    isOriginAllowed((origin, request) => {
      calls.push([origin, request]);
      return true;
    }, r);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe('https://Some.Origin:444');
    expect(calls[0]![1]).toBe(r);
  });

  it('decides: its boolean is the answer', () => {
    expect(isOriginAllowed(() => true, req('https://evil.com'))).toBe(true);
    expect(isOriginAllowed(() => false, req('https://example.com', 'example.com'))).toBe(false);
    const onlyGood = (origin: string | undefined): boolean => origin === 'https://good.test';
    expect(isOriginAllowed(onlyGood, req('https://good.test'))).toBe(true);
    expect(isOriginAllowed(onlyGood, req('https://bad.test'))).toBe(false);
  });

  it('is asked even when there is no Origin header (and receives undefined)', () => {
    const seen: (string | undefined)[] = [];
    const allowed = isOriginAllowed((origin) => {
      seen.push(origin);
      return false;
    }, req(undefined));
    expect(seen).toEqual([undefined]);
    expect(allowed).toBe(false);
  });

  it('only a real true allows (a truthy non-boolean does not)', () => {
    const truthy = (() => 'yes') as unknown as OriginPolicy;
    expect(isOriginAllowed(truthy, req('https://example.com'))).toBe(false);
  });

  it('lets an exception from the predicate propagate (the upgrade gate turns it into a refusal)', () => {
    expect(() =>
      isOriginAllowed(() => {
        throw new Error('boom');
      }, req('https://example.com')),
    ).toThrow('boom');
  });
});
