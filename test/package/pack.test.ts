import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * What `npm pack` would put in the tarball, from the current dist/ (built by `npm ci` through
 * `prepare`; scripts are not run here, so this reads what is on disk). The source maps are shipped
 * with the sources they name (src/ and machines/ are in `files`), so a stack trace or a debugger in
 * an app that installed the package lands on the TypeScript line; the license text is in the package.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
let packed: Set<string>;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/src/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [report] = JSON.parse(out) as [{ files: { path: string }[] }];
  packed = new Set(report.files.map((f) => f.path));
});

describe('the packed tarball', () => {
  it('carries the MIT license it declares, listed in files', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string; files: string[] };
    expect(pkg.license).toBe('MIT');
    expect(pkg.files).toContain('LICENSE');
    expect(packed.has('LICENSE')).toBe(true);
    const text = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the actorhub authors\n/);
  });

  it('every sourceMappingURL of a packed file names a packed map whose sources are packed too', () => {
    const scripts = [...packed].filter((p) => /\.(js|d\.ts)$/.test(p));
    let maps = 0;
    const missing: string[] = [];
    for (const file of scripts) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(root, file), 'utf8'))?.[1];
      if (!url) continue;
      const map = posix.join(posix.dirname(file), url);
      if (!packed.has(map)) {
        missing.push(`${file} → ${map}`);
        continue;
      }
      maps++;
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
        sources: string[];
        sourceRoot?: string;
      };
      for (const source of sources) {
        const path = posix.normalize(posix.join(posix.dirname(map), sourceRoot, source));
        if (!packed.has(path)) missing.push(`${map} → ${path}`);
      }
    }
    // Not vacuous: the build emits maps for dist/src and dist/machines.
    expect(maps).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('ships the entry points package.json names (exports, bin, types)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = [
      pkg.main,
      pkg.types,
      ...Object.values(pkg.bin),
      ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))),
    ].map((p) => posix.normalize(p));
    expect(targets.filter((t) => !packed.has(t))).toEqual([]);
  });
});
