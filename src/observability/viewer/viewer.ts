import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { clientMachine } from '../../../machines/client.machine.js';
import { hubMachine } from '../../../machines/hub.machine.js';
import * as L from '../../limits.js';
import { sanitizeEvent } from '../inspector/sanitize.js';
import { machineGraph } from './machine-graph.js';
import { viewerScript } from './viewer-script.js';
import { viewerStyle } from './viewer-style.js';

export interface ViewerOptions {
  /** Where the page is served; its live feed is `<path>/events`. Default `/inspect`. */
  readonly path?: string;
  /** Another inspection observer that sees every event too (the Stately relay); closed with the viewer. */
  readonly also?: Observer<InspectionEvent> & { close?(): Promise<void> };
  readonly tickMs?: number;
  readonly eventsPerTick?: number;
  readonly followEventsPerTick?: number;
  readonly maxPages?: number;
}

/**
 * The hub's own live viewer: an inspection observer (pass it as `createHub({ inspect })`) and an
 * HTTP handler that serves the page at GET /inspect and its feed (server-sent events) at
 * GET /inspect/events. The server aggregates: per-state client counts are read from the registry
 * once per tick, events are sampled (at most `eventsPerTick` listed, the rest counted by type),
 * and per-client detail (every event and snapshot) is kept only for a client a page follows.
 * With no page open, an inspection event costs one comparison.
 */
export interface HubViewer extends Observer<InspectionEvent> {
  /** Serves the page and its feed; returns false for any other path (for you to answer). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  readonly path: string;
  /** The observer it forwards to (options.also), if any. */
  readonly also: (Observer<InspectionEvent> & { close?(): Promise<void> }) | undefined;
  /** Pages connected to the feed now. */
  readonly pages: number;
  /** Ends every feed; closes `also`. Idempotent. */
  close(): Promise<void>;
}

interface Row {
  readonly t: number;
  readonly actor: string;
  readonly type: string;
}

interface FollowRow extends Row {
  readonly event: unknown;
  readonly value: unknown;
  readonly status: unknown;
}

interface Page {
  readonly res: ServerResponse;
  readonly follow: string | undefined;
}

/** A client actor: made from the client machine (the hub provides its actions; the machine's id stays). */
const isClient = (ref: AnyActorRef): boolean =>
  typeof ref.src === 'object' && (ref.src as { id?: unknown }).id === clientMachine.id;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const inlineJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

export function createViewer(options: ViewerOptions = {}): HubViewer {
  const path = options.path ?? '/inspect';
  const feedPath = `${path}/events`;
  const tickMs = options.tickMs ?? L.VIEWER_TICK_MS;
  const perTick = options.eventsPerTick ?? L.VIEWER_EVENTS_PER_TICK;
  const followPerTick = options.followEventsPerTick ?? L.VIEWER_FOLLOW_EVENTS_PER_TICK;
  const maxPages = options.maxPages ?? L.VIEWER_MAX_PAGES;
  const definitions = { hub: machineGraph(hubMachine), client: machineGraph(clientMachine) };

  let hub: AnyActorRef | undefined;
  const pages = new Set<Page>();
  /** Client ids some page follows: only these get per-event detail. */
  const followed = new Map<string, number>();
  let rows: Row[] = [];
  let more = new Map<string, number>();
  const followRows = new Map<string, FollowRow[]>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const actorName = (ref: AnyActorRef): string => (ref === hub ? 'hub' : ref.id);

  /**
   * The client actors alive now, as inspection announced them (`@xstate.actor`) and retired them
   * (a snapshot no longer active). The viewer keeps its own registry rather than reading the
   * hub's context: it reads only what XState's public inspection API and ActorRef give
   * (getSnapshot().value and .status), never a machine's context.
   */
  const clients = new Map<string, AnyActorRef>();

  /** Per-state counts over the registry; a client that stopped without a last snapshot (an error thrown in a transition) is dropped here. */
  const counts = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [id, ref] of clients) {
      const snap = ref.getSnapshot() as { value?: unknown; status?: unknown };
      if (snap.status !== 'active') {
        clients.delete(id);
        continue;
      }
      const value = String(snap.value);
      out[value] = (out[value] ?? 0) + 1;
    }
    return out;
  };

  /** The hub's state and status from its snapshot; `clients` is the sum of the counts taken with it. */
  const hubView = (byState: Record<string, number>) => {
    const snap = hub?.getSnapshot() as { value?: unknown; status?: string } | undefined;
    if (!snap) return undefined;
    let total = 0;
    for (const n of Object.values(byState)) total += n;
    return { value: snap.value, status: snap.status, clients: total };
  };

  const clientView = (id: string) => {
    const ref = clients.get(id);
    const snap = ref?.getSnapshot() as { value?: unknown; status?: unknown } | undefined;
    if (!snap || snap.status !== 'active') return { id, connected: false };
    return { id, connected: true, value: snap.value, status: snap.status };
  };

  const write = (page: Page, kind: string, body: unknown): void => {
    if (page.res.writableLength > L.VIEWER_MAX_UNREAD_BYTES) return;
    page.res.write(`event: ${kind}\ndata: ${JSON.stringify(body)}\n\n`);
  };

  const tick = (): void => {
    const byState = counts();
    const state = { hub: hubView(byState), counts: byState, events: rows, more: Object.fromEntries(more) };
    rows = [];
    more = new Map();
    const detail = new Map<string, FollowRow[]>(followRows);
    followRows.clear();
    for (const page of pages) {
      write(page, 'tick', {
        ...state,
        ...(page.follow === undefined
          ? {}
          : { follow: { ...clientView(page.follow), events: detail.get(page.follow) ?? [] } }),
      });
    }
  };

  const drop = (page: Page): void => {
    if (!pages.delete(page)) return;
    if (page.follow !== undefined) {
      const n = (followed.get(page.follow) ?? 1) - 1;
      if (n <= 0) followed.delete(page.follow);
      else followed.set(page.follow, n);
    }
    if (pages.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const feed = (req: IncomingMessage, res: ServerResponse, follow: string | undefined): void => {
    if (closed || pages.size >= maxPages) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end(closed ? 'viewer closed' : `at most ${maxPages} viewer pages at once`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    const page: Page = { res, follow };
    pages.add(page);
    if (follow !== undefined) followed.set(follow, (followed.get(follow) ?? 0) + 1);
    req.once('close', () => drop(page));
    // A page that opens late sees the present: definitions, the hub's snapshot, the counts.
    const byState = counts();
    write(page, 'init', { definitions, hub: hubView(byState), counts: byState, follow: follow && clientView(follow) });
    timer ??= setInterval(tick, tickMs);
    timer.unref?.();
  };

  const html = (): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actorhub · inspect</title>
<link rel="icon" href="data:,">
<style>${viewerStyle}</style>
</head>
<body>
<header>
  <h1>actorhub <span>inspect</span></h1>
  <span id="status" class="pill" data-testid="status">connecting…</span>
  <span id="hub-line" class="line" data-testid="hub-line"></span>
  <span class="grow"></span>
  <form id="follow-form" class="follow"><input id="follow-id" placeholder="client id to follow" aria-label="client id" autocomplete="off"><button type="submit">Follow</button><button id="unfollow" type="button" class="ghost">Stop</button></form>
</header>
<main>
  <section class="card wide"><h2>hub</h2><svg id="hub-diagram" data-testid="hub-diagram" role="img" aria-label="hub machine"></svg><details><summary>transitions</summary><table id="hub-table" class="table"></table></details></section>
  <section class="card wide"><h2>client <small id="client-total" data-testid="client-total"></small></h2><svg id="client-diagram" data-testid="client-diagram" role="img" aria-label="client machine"></svg><details><summary>transitions</summary><table id="client-table" class="table"></table></details></section>
  <section class="card"><h2>events <small id="sampled" data-testid="sampled"></small></h2>
    <div class="filters"><input id="filter" placeholder="filter: type or actor" aria-label="filter"><select id="kind" aria-label="actors"><option value="">all actors</option><option value="hub">hub</option><option value="clients">clients</option></select><button id="pause" type="button" class="ghost">Pause</button></div>
    <table class="stream"><thead><tr><th>time</th><th>actor</th><th>event</th></tr></thead><tbody id="events" data-testid="events"></tbody></table>
  </section>
  <section class="card"><h2>followed <small id="followed-id" data-testid="followed-id">none</small></h2>
    <div id="followed-state" class="followed-state" data-testid="followed-state"></div>
    <table class="stream"><thead><tr><th>time</th><th>event</th><th>state</th></tr></thead><tbody id="followed" data-testid="followed"></tbody></table>
  </section>
</main>
<script id="viewer-config" type="application/json">${inlineJson({ feed: feedPath })}</script>
<script>${viewerScript}</script>
</body>
</html>
`;
  const body = Buffer.from(html());
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(viewerScript)}`,
    `style-src ${sha256(viewerStyle)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  return {
    path,
    also: options.also,
    get pages() {
      return pages.size;
    },
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://viewer');
      if (url.pathname !== path && url.pathname !== feedPath) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('method not allowed');
        return true;
      }
      if (url.pathname === feedPath) {
        const follow = url.searchParams.get('follow');
        feed(req, res, follow ? follow.slice(0, 256) : undefined);
        return true;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': body.length,
        'cache-control': 'no-cache',
        'content-security-policy': csp,
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
    next(event) {
      options.also?.next?.(event);
      // Once per actor, and once per client when it stops: the registry the counts are read from.
      if (event.type === '@xstate.actor') {
        const ref = event.actorRef as AnyActorRef;
        if (isClient(ref)) clients.set(ref.id, ref);
        else if (hub === undefined && ref.sessionId === event.rootId) hub = ref;
        return;
      }
      if (event.type === '@xstate.snapshot' && (event.snapshot as { status?: unknown }).status !== 'active') {
        const ref = event.actorRef as AnyActorRef;
        if (clients.get(ref.id) === ref) clients.delete(ref.id);
      }
      if (pages.size === 0) return;
      if (event.type === '@xstate.event') {
        const actor = actorName(event.actorRef as AnyActorRef);
        const type = event.event.type;
        if (rows.length < perTick) rows.push({ t: Date.now(), actor, type });
        else more.set(type, (more.get(type) ?? 0) + 1);
      } else if (event.type === '@xstate.snapshot' && followed.size > 0) {
        const actor = actorName(event.actorRef as AnyActorRef);
        if (!followed.has(actor)) return;
        let list = followRows.get(actor);
        if (!list) followRows.set(actor, (list = []));
        if (list.length >= followPerTick) return;
        const snap = event.snapshot as { value?: unknown; status?: unknown };
        list.push({
          t: Date.now(),
          actor,
          type: event.event.type,
          event: sanitizeEvent(event.event),
          value: snap.value,
          status: snap.status,
        });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (pages.size > 0) tick(); // the last state (a shutdown's closes) reaches open pages
      for (const page of [...pages]) {
        page.res.end();
        drop(page);
      }
      await options.also?.close?.();
    },
  };
}
