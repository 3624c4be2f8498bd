import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../../types.js';
import { pageScript } from './page-script.js';
import { pageStyle } from './page-style.js';

export interface PageOptions {
  /** Where the page polls the hub's figures (hubRoutes serves GET /stats). */
  readonly statsPath?: string;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** JSON inside <script>: "<" escaped so no value can close the element. */
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const inlineJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * The SDK's browser bundle (docs/tools/bundle-client.ts, run by `npm run build`): dist/browser/ seen
 * from dist/src/server/page/, or from src/server/page/ when run from source (tests, tsx).
 */
const BUNDLE_PATHS = [
  new URL('../../../browser/actorhub-client.js', import.meta.url),
  new URL('../../../dist/browser/actorhub-client.js', import.meta.url),
];

let bundle: string | undefined;
/** The bundle's text, read once; '' when it was not built (the page then says so). */
export function clientBundle(): string {
  if (bundle === undefined) {
    const found = BUNDLE_PATHS.find((p) => existsSync(p));
    bundle = found ? readFileSync(found, 'utf8') : '';
  }
  return bundle;
}

export function pageHtml(
  config: { path: string; protocol: string; stats: string },
  sdk: string = clientBundle(),
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actorhub</title>
<link rel="icon" href="data:,">
<style>${pageStyle}</style>
</head>
<body>
<header>
  <h1>actorhub <span>live</span></h1>
  <span id="status" class="pill" data-testid="status">…</span>
  <span id="me" class="me" data-testid="me"></span>
  <span class="grow"></span>
  <button id="connect" class="ghost" type="button">Connect</button>
</header>
<main>
  <div id="sdk-missing" class="banner" hidden>The client bundle (<code>dist/browser/actorhub-client.js</code>) is missing: run <code>npm run build</code>.</div>
  <div id="relay" class="banner" hidden>This hub speaks the <b>relay</b> protocol (<code>--protocol relay</code>): every message goes unchanged to every other client, with no ids, topics or presence. You can still chat below; for topics and presence start the hub with <code>--protocol json</code> (the default).</div>
  <div class="col">
    <section class="card">
      <h2>Topics</h2>
      <form id="join-form" class="row"><input id="topic" placeholder="e.g. room:1" maxlength="128" autocomplete="off" aria-label="topic"><button id="join" type="submit">Join</button></form>
      <ul id="topics" class="topics" data-testid="topics"></ul>
    </section>
    <section class="card">
      <h2>Here in <span id="presence-topic">—</span></h2>
      <ul id="presence" class="presence" data-testid="presence"></ul>
    </section>
  </div>
  <section class="card">
    <h2>Messages</h2>
    <div id="log" class="log" data-testid="messages" aria-live="polite"></div>
    <form id="compose" class="compose">
      <div id="to" class="to"></div>
      <div class="send-row"><input id="text" placeholder="Say something…" autocomplete="off" aria-label="message"><button id="send" type="submit">Send</button></div>
    </form>
  </section>
  <div class="col">
    <section class="card">
      <h2>Hub</h2>
      <div class="stats">
        <div class="stat"><b id="stat-clients" data-testid="stat-clients">–</b><small>clients</small></div>
        <div class="stat"><b id="stat-topics" data-testid="stat-topics">–</b><small>topics</small></div>
        <div class="stat"><b id="stat-in" data-testid="stat-in">–</b><small>messages in / s</small></div>
        <div class="stat"><b id="stat-out" data-testid="stat-out">–</b><small>messages out / s</small></div>
      </div>
      <div id="stat-foot" class="foot"></div>
    </section>
    <section class="card about">
      Speaks the documented ${config.protocol === 'json' ? 'JSON' : 'relay'} protocol on <code>${escapeHtml(config.path)}</code>; figures from <code>${escapeHtml(config.stats)}</code>.
    </section>
  </div>
</main>
<script id="actorhub-config" type="application/json">${inlineJson(config)}</script>
${sdk ? `<script>${sdk}</script>\n` : ''}<script>${pageScript}</script>
</body>
</html>
`;
}

/**
 * GET / of the standalone server: a small live page to try a hub from a browser. Mount it in
 * your own server with the hub's /stats beside it (hubRoutes), e.g. `app.get('/', hubPage(hub))`.
 */
export function hubPage(hub: Hub, options: PageOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const sdk = clientBundle();
  const html = pageHtml(
    {
      path: hub.options.path,
      protocol: hub.options.protocol,
      stats: options.statsPath ?? '/stats',
    },
    sdk,
  );
  const body = Buffer.from(html);
  // Everything is inline and same-origin: allow exactly these scripts (the SDK bundle and the
  // page's own) and this style, nothing else.
  const csp = [
    "default-src 'none'",
    `script-src ${sdk ? `${sha256(sdk)} ` : ''}${sha256(pageScript)}`,
    `style-src ${sha256(pageStyle)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
