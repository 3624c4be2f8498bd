import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hubRoutes } from '../../../src/server/http-routes.js';
import { createHub } from '../../../src/hub.js';
import type { HubOptions } from '../../../src/types.js';
import { pageScript } from '../../../src/server/page/page-script.js';
import { clientBundle } from '../../../src/server/page/page.js';
import { silentLogger } from '../../support/ws-client.js';

/** GET / without a browser (the browser test is test/services/page.test.ts). */
async function get(options: HubOptions, method = 'GET'): Promise<Response> {
  const hub = createHub({ logger: silentLogger, ...options });
  const server = http.createServer(hubRoutes(hub));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    await hub.close({ timeoutMs: 100 });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method });
}

const config = (html: string): unknown =>
  JSON.parse(/<script id="actorhub-config" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!);

describe('the live page route', () => {
  it('serves one self-contained HTML page that knows the hub path and protocol', async () => {
    const res = await get({ path: '/socket', protocol: 'relay' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(config(html)).toEqual({ path: '/socket', protocol: 'relay', stats: '/stats' });
    expect(html).not.toMatch(/https?:\/\//); // no CDN, nothing from elsewhere
    // The CSP allows exactly the inline scripts that are served: the SDK's bundle, then the page's.
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const sdk = clientBundle();
    expect(sdk, 'dist/browser/actorhub-client.js: run npm run build').not.toBe('');
    expect(res.headers.get('content-security-policy')).toContain(`script-src ${hash(sdk)} ${hash(pageScript)};`);
    expect(html).toContain(`<script>${sdk}</script>\n<script>${pageScript}</script>`);
  });

  it('answers HEAD without a body and refuses other methods with 405', async () => {
    const head = await get({}, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await get({}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('keeps the script free of what would break its embedding', () => {
    expect(pageScript).not.toContain('</script');
    expect(pageScript).not.toContain('`');
  });
});
