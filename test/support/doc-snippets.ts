import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The TypeScript code blocks of the README and docs/, so that a test compiles (and runs) each one
 * and a snippet cannot rot. A block's info string says what it is (docs/api.md, "Snippets"):
 *
 * - ```ts — a complete module: it compiles with nothing but its own imports;
 * - ```ts server — a complete program that serves: compiled, run with PORT=0, it prints its URL,
 *   answers GET /healthz and a WebSocket on /ws, and on SIGTERM closes it with 1001 and exits 0;
 * - ```ts fragment — code that takes for granted names of the reader's own program (`app`, `hub`,
 *   `clientId`, …): compiled with the declarations in SNIPPET_CONTEXT, never run.
 *
 * Any other info string on a ```ts block is refused, so that a typo cannot exempt a block.
 * docs/api/ is skipped: it is API Extractor's generated report, not code to run.
 */
export type SnippetKind = 'module' | 'server' | 'fragment';

export interface Snippet {
  /** Where the block starts, e.g. `README.md:299` (the line of its opening fence). */
  readonly where: string;
  /** The markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the block's first code line in that file. */
  readonly firstLine: number;
  readonly kind: SnippetKind;
  readonly code: string;
}

const KINDS: Record<string, SnippetKind> = { '': 'module', server: 'server', fragment: 'fragment' };

/** README.md and every markdown file under docs/ except the generated API report. */
export function documentationFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return relative(root, path) === join('docs', 'api') ? [] : walk(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return [join(root, 'README.md'), ...walk(join(root, 'docs')).sort()];
}

/** The ```ts / ```typescript blocks of one markdown text. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(\S*)\s*(.*?)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, fence, lang, info] = open as unknown as [string, string, string, string];
    const end = lines.findIndex((line, j) => j > i && line.trimEnd() === fence);
    if (end < 0) throw new Error(`${file}:${i + 1}: code block never closed`);
    if (lang === 'ts' || lang === 'typescript') {
      const kind = KINDS[info];
      if (!kind)
        throw new Error(`${file}:${i + 1}: unknown info string "${lang} ${info}" (ts, ts server, ts fragment)`);
      snippets.push({
        where: `${file}:${i + 1}`,
        file,
        firstLine: i + 2,
        kind,
        code: lines.slice(i + 1, end).join('\n'),
      });
    }
    i = end;
  }
  return snippets;
}

/** Every snippet of the README and docs/. */
export function documentationSnippets(root: string): Snippet[] {
  return documentationFiles(root).flatMap((path) => extractSnippets(relative(root, path), readFileSync(path, 'utf8')));
}

/**
 * What fragments take for granted: the reader's own program around them. Stand-ins with honest
 * types (express and fastify are the real ones, dev dependencies here), so a fragment that calls
 * the API wrongly still fails. A global script: a fragment's own declaration shadows one of these.
 */
export const SNIPPET_CONTEXT = `
import type { IncomingMessage, RequestListener } from 'node:http';
declare global {
  type BrokerState = import('actorhub').BrokerState;
  const hub: import('actorhub').Hub;
  const createHub: typeof import('actorhub').createHub;
  const express: typeof import('express').default;
  const Fastify: typeof import('fastify').default;
  const app: import('express').Express;
  const appHandler: RequestListener;
  const clientId: string;
  const someClientId: string;
  const checkToken: (token: string | undefined) => Promise<{ id: string; name: string } | undefined>;
  const verifyJwt: (token: string) => Promise<{ sub: string; name: string } | undefined>;
  const roles: (clientId: string) => Promise<string[]>;
  const client: import('actorhub/client').HubClient;
  const fetchToken: () => Promise<string>;
  const render: (text: string, from: string | undefined) => void;
  const show: (text: string) => void;
  const reloadRoom: () => void;
  const topic: string;
  const handler: import('actorhub/client').MessageHandler<unknown>;
  const recover: boolean;
  const presence: boolean;
  const schema: import('actorhub/client').StandardSchemaV1<unknown, unknown>;
  const url: string;
  const myBroker: (options: { url: string; nodeId: string }) => import('actorhub').Broker;
}
export {};
`;
