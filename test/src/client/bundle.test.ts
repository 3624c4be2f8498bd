import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserBuild, bundleClient } from '../../../docs/tools/bundle-client.js';

/** The browser bundle of actorhub/client: built for the browser platform, and small. */

/** The budget: minified and gzipped. docs/client.md gives the figure, checked below. */
const BUDGET_BYTES = 20 * 1024;
/** How far the figure in docs/client.md may drift from the measured one before the test asks for an update. */
const DOC_TOLERANCE = 0.02;

/** The gzipped sizes docs/client.md states, as bytes: [ESM, IIFE]. */
function documentedSizes(): [number, number] {
  const doc = readFileSync(new URL('../../../docs/client.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const m =
    /\(([\d,]+) bytes\) as a bundler sees it \(ESM\) and [\d.]+ KiB \(([\d,]+) bytes\) as the ready-made IIFE/.exec(
      doc,
    );
  if (!m) throw new Error('docs/client.md no longer states the bundle sizes in the expected sentence');
  return [Number(m[1]!.replace(/,/g, '')), Number(m[2]!.replace(/,/g, ''))];
}

describe('actorhub/client in a browser bundle', () => {
  it('minified + gzipped stays within 20 KB (ESM, as a bundler sees it, and the IIFE the page inlines), as docs/client.md says', async () => {
    const documented = documentedSizes();
    for (const [i, format] of (['esm', 'iife'] as const).entries()) {
      const text = await bundleClient(format);
      const gzipped = gzipSync(text, { level: 9 }).byteLength;
      console.log(`actorhub/client ${format}: ${text.length} B minified, ${gzipped} B gzipped`);
      expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
      // The doc's figure is this measurement: update docs/client.md when the SDK grows or shrinks.
      expect(Math.abs(gzipped - documented[i]!) / gzipped, `${format}: measured ${gzipped} B`).toBeLessThanOrEqual(
        DOC_TOLERANCE,
      );
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
