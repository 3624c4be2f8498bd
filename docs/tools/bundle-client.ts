/**
 * The browser bundles of actorhub/client, built by esbuild (`npm run build` runs this after tsc):
 * - dist/browser/actorhub-client.js: an IIFE (global `actorhub`), minified — what the live page
 *   at `/` inlines, and what a page without a bundler can load with a <script> tag;
 * - the ESM form, in memory, is what test/src/client/bundle.test.ts weighs (a bundler's view).
 * Platform `browser`: a Node built-in anywhere under src/client/ fails the build.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const entry = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));

export const browserBuild = (format: 'esm' | 'iife'): BuildOptions & { write: false } => ({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format,
  ...(format === 'iife' ? { globalName: 'actorhub' } : {}),
  platform: 'browser',
  target: 'es2020',
  legalComments: 'none',
  write: false,
  logLevel: 'silent',
});

/** The bundle's text. */
export async function bundleClient(format: 'esm' | 'iife'): Promise<string> {
  const result = await build(browserBuild(format));
  return result.outputFiles[0]!.text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = fileURLToPath(new URL('../../dist/browser/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}actorhub-client.js`, await bundleClient('iife'));
}
