import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectServesUntilSigterm } from '../support/serve-check.js';
import { documentationSnippets, SNIPPET_CONTEXT, type Snippet } from '../support/doc-snippets.js';

/**
 * Every ```ts block of the README and docs/ is compiled as an app would compile it: `actorhub`,
 * `actorhub/client` resolve through the package's own `exports` (self-reference) to the built dist/
 * (`npm ci` builds it; run `npm run build` after changing src/), with the repository's compiler
 * options. Fragments get the stand-ins of SNIPPET_CONTEXT; complete modules and servers get nothing
 * but their imports. Servers are then run: each must print its URL, answer GET /healthz and a
 * WebSocket on /ws, and on SIGTERM close that client with 1001 and exit 0. The files go to
 * dist/snippets/ (ignored by git, lint and the package), under test/docs/ so that a contributor's
 * snippet importing ../support/… finds test/support/ (rootDirs).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'dist', 'snippets');
const snippets = documentationSnippets(root);
const fileOf = (s: Snippet) => join(out, 'test', 'docs', `${s.where.replace(/[^A-Za-z0-9]+/g, '-')}.ts`);

/**
 * The repository's options, as an app with `strict` would compile: our own extra
 * `exactOptionalPropertyTypes` is left out (few apps set it; under it `token: process.env.X` in
 * docs/client.md would need a `?? ''`).
 */
function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const { rootDir: _rootDir, outDir: _outDir, exactOptionalPropertyTypes: _exact, ...rest } = options;
  return { ...rest, noEmit: false, declaration: false, sourceMap: false, incremental: false, rootDirs: [out, root] };
}

/** Diagnostics of the snippet files only, pointed at the markdown line they come from. */
function diagnose(program: ts.Program, group: readonly Snippet[]): string[] {
  return group.flatMap((snippet) => {
    const source = program.getSourceFile(fileOf(snippet));
    if (!source) return [`${snippet.where}: not compiled`];
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      return `${snippet.file}:${snippet.firstLine + line}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  });
}

const fragments = snippets.filter((s) => s.kind === 'fragment');
const complete = snippets.filter((s) => s.kind !== 'fragment');
const servers = snippets.filter((s) => s.kind === 'server');
let withoutContext: ts.Program;
// Compiling loads lib, @types/node, express and fastify types: slow on a loaded machine, not a hang.
const COMPILE_MS = 120_000;

beforeAll(() => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'test', 'docs'), { recursive: true });
  // A fragment is a module too (its top-level names stay its own), hence the export.
  for (const s of snippets) writeFileSync(fileOf(s), `${s.code}\nexport {};\n`);
  writeFileSync(join(out, 'context.d.ts'), SNIPPET_CONTEXT);
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the snippets of the README and docs/', () => {
  it('are found, each kind at least once (the checks below are not vacuous)', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(15);
    expect(snippets.some((s) => s.where.startsWith('README.md'))).toBe(true);
    expect(new Set(snippets.map((s) => s.kind))).toEqual(new Set(['module', 'server', 'fragment']));
  });

  it(
    'complete modules and servers compile with nothing but their own imports',
    () => {
      withoutContext = ts.createProgram(complete.map(fileOf), compilerOptions());
      expect(diagnose(withoutContext, complete)).toEqual([]);
    },
    COMPILE_MS,
  );

  it(
    'fragments compile beside the stand-ins of the program around them',
    () => {
      const program = ts.createProgram({
        rootNames: [...fragments.map(fileOf), join(out, 'context.d.ts')],
        options: compilerOptions(),
        oldProgram: withoutContext, // reuses what both parse (lib, @types, dist's declarations)
      });
      expect(diagnose(program, fragments)).toEqual([]);
    },
    COMPILE_MS,
  );

  it(
    "docs/broker.md's Broker listing is the exported Broker interface, member for member",
    () => {
      const listing = snippets.find((s) => s.file === 'docs/broker.md' && /export interface Broker\b/.test(s.code));
      expect(listing, 'docs/broker.md lists the Broker interface').toBeDefined();
      const check = join(out, 'test', 'docs', 'broker-listing-check.ts');
      const module = `./${fileOf(listing!).split('/').pop()!.replace(/\.ts$/, '.js')}`;
      writeFileSync(
        check,
        [
          `import type { Broker as Exported } from 'actorhub';`,
          `import type { Broker as Documented } from '${module}';`,
          `type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;`,
          `export const same: Same<Exported, Documented> = true;`,
          // Name the members one side lacks (`same` alone only says that they differ).
          `export const undocumented: Record<Exclude<keyof Exported, keyof Documented>, never> = {};`,
          `export const unexported: Record<Exclude<keyof Documented, keyof Exported>, never> = {};`,
        ].join('\n'),
      );
      const program = ts.createProgram({
        rootNames: [check, join(out, 'context.d.ts')],
        options: compilerOptions(),
        oldProgram: withoutContext,
      });
      const source = program.getSourceFile(check)!;
      const problems = [...program.getSemanticDiagnostics(source)].map((d) =>
        ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      );
      expect(problems).toEqual([]);
    },
    COMPILE_MS,
  );

  it.each(servers.map((s) => [s.where, s] as const))(
    '%s serves: prints its URL, answers /healthz and WebSocket, on SIGTERM closes it with 1001 and exits 0',
    async (_where, snippet) => {
      const source = withoutContext.getSourceFile(fileOf(snippet))!;
      const emitted = withoutContext.emit(source);
      expect(emitted.emitSkipped).toBe(false);
      await expectServesUntilSigterm(fileOf(snippet).replace(/\.ts$/, '.js'), out);
    },
    30_000,
  );
});
