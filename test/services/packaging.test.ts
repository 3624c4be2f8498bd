import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentationSnippets } from '../support/doc-snippets.js';
import { expectServesUntilSigterm } from '../support/serve-check.js';

/**
 * The packed tarball installed into a fresh app next to the newest effect 4.x and xstate 5.x from
 * the npm registry (the service this test needs), as a user would: one copy of each must result
 * (they are peer dependencies), the README's and docs' complete TypeScript examples must type-check
 * against the installed declarations, with skipLibCheck off, and the README's Effect server must run
 * there until SIGTERM. Uses dist/ as built by `npm ci` (the tarball is packed without scripts).
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const ours = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 64 << 20 });

let dir: string;
let app: string;
let newestEffect: string;

/** Every installed copy of `name` under the app: path → version. */
async function copiesOf(name: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (modules: string): Promise<void> => {
    const entries = await readdir(modules, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      const packages = entry.name.startsWith('@')
        ? (await readdir(join(modules, entry.name))).map((n) => join(modules, entry.name, n))
        : [join(modules, entry.name)];
      for (const pkg of packages) {
        if (pkg.endsWith(`/node_modules/${name}`)) {
          const { version } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string };
          found[pkg.slice(app.length + 1)] = version;
        }
        await walk(join(pkg, 'node_modules'));
      }
    }
  };
  await walk(join(app, 'node_modules'));
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'actorhub-packaging-'));
  app = join(dir, 'app');
  await mkdir(join(app, 'src'), { recursive: true });
  const packed = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];

  // The registry: fails here, loudly, when it cannot be reached.
  const versions = JSON.parse((await npm(['view', 'effect', 'versions', '--json'], dir)).stdout) as string[];
  newestEffect = semver.maxSatisfying(versions, '4.x')!;
  expect(newestEffect, 'no effect 4.x on the registry').toBeTruthy();

  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
  await npm(
    [
      'install',
      join(dir, filename),
      `effect@${newestEffect}`,
      'xstate@5',
      `typescript@${ours.devDependencies.typescript}`,
      `@types/node@${ours.devDependencies['@types/node']}`,
      `@types/ws@${ours.devDependencies['@types/ws']}`,
    ],
    app,
  );
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the tarball in a fresh app, next to the newest effect 4.x', () => {
  it('leaves one copy of effect (the newest 4.x) and one of xstate, within our tested peer ranges', async () => {
    const effect = await copiesOf('effect');
    expect(effect).toEqual({ 'node_modules/effect': newestEffect });
    expect(semver.satisfies(newestEffect, ours.peerDependencies.effect!)).toBe(true);
    const xstate = await copiesOf('xstate');
    expect(Object.keys(xstate)).toEqual(['node_modules/xstate']);
    expect(semver.satisfies(xstate['node_modules/xstate']!, ours.peerDependencies.xstate!)).toBe(true);
    // And npm agrees: no invalid or missing peer in the tree.
    await expect(npm(['ls', '--all'], app)).resolves.toBeDefined();
  });

  const complete = documentationSnippets(root).filter((s) => s.kind !== 'fragment');
  const fileOf = (where: string) => `${where.replace(/[^A-Za-z0-9]+/g, '-')}`;

  it('type-checks the complete examples of the README and docs against the installed package', async () => {
    expect(complete.some((s) => s.kind === 'server')).toBe(true);
    for (const s of complete) await writeFile(join(app, 'src', `${fileOf(s.where)}.ts`), `${s.code}\nexport {};\n`);
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: ['node'],
        skipLibCheck: false, // the installed declarations too: two copies of effect would clash here
        outDir: 'dist',
        rootDir: 'src',
      },
      include: ['src'],
    };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], {
      cwd: app,
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }));
    expect(tsc.stdout).toBe('');
  }, 120_000);

  it.each(complete.filter((s) => s.kind === 'server').map((s) => [s.where] as const))(
    '%s runs there: serves until SIGTERM, then closes clients with 1001 and exits 0',
    async (where) => {
      await expectServesUntilSigterm(join(app, 'dist', `${fileOf(where)}.js`), app);
    },
    30_000,
  );
});
