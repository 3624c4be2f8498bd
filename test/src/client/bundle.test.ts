import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserBuild, bundleClient } from '../../../docs/tools/bundle-client.js';

/** The browser bundle of actorhub/client: built for the browser platform, and small. */

/** The budget: minified and gzipped. docs/client.md and docs/performance.md give the figure. */
const BUDGET_BYTES = 20 * 1024;

describe('actorhub/client in a browser bundle', () => {
  it('minified + gzipped stays within 20 KB (ESM, as a bundler sees it, and the IIFE the page inlines)', async () => {
    for (const format of ['esm', 'iife'] as const) {
      const text = await bundleClient(format);
      const gzipped = gzipSync(text, { level: 9 }).byteLength;
      console.log(`actorhub/client ${format}: ${text.length} B minified, ${gzipped} B gzipped`);
      expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    }
  });

  /** The same options with stdin in place of the entry file. */
  const withoutEntryPoints = ({ entryPoints: _entry, ...rest }: ReturnType<typeof browserBuild>) => rest;

  it('imports no Node built-in: the same build with one fails', async () => {
    const ok = await build(browserBuild('esm'));
    expect(ok.errors).toEqual([]);
    // The check is real: the browser platform refuses node: imports.
    await expect(
      build({
        ...withoutEntryPoints(browserBuild('esm')),
        stdin: { contents: "import 'node:fs';", resolveDir: '.' },
      }),
    ).rejects.toThrow(/node:fs/);
  });

  it('never contains "</script" (the live page inlines it)', async () => {
    expect(await bundleClient('iife')).not.toMatch(/<\/script/i);
  });
});
