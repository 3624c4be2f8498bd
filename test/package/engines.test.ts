import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * `engines.node` is a promise to whoever installs the package: every Node version it admits must be
 * admitted by every dependency installed with it, or npm warns EBADENGINE (as it did when @nats-io/nuid
 * 3.0.0 wants Node 22 while we said >=20.10). `devEngines.runtime` is the same promise to
 * contributors, for the dev dependencies. Both are checked against the lockfile, which records each
 * installed package's own `engines`.
 */
interface LockPackage {
  readonly engines?: Record<string, string> | string[];
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  engines: { node: string };
  devEngines: { runtime: { name: string; version: string } };
};
const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as {
  packages: Record<string, LockPackage>;
};

/** Where Node finds `name` from the package at `from`: its own node_modules, then each parent's. */
function locate(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
    const path = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[path]) return path;
    if (!dir) return undefined;
  }
}

/**
 * What an app installs with actorhub: its dependencies and peer dependencies (effect, xstate; the
 * lockfile marks those `dev`, since we install them as dev dependencies), and theirs, transitively.
 */
const runtime = new Set<string>();
const visit = (from: string, entry: LockPackage) => {
  const names = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
  for (const name of Object.keys(names)) {
    const path = locate(from, name);
    if (path && !runtime.has(path)) {
      runtime.add(path);
      visit(path, lock.packages[path]!);
    }
  }
};
visit('', lock.packages['']!);

/** Each installed package with a Node range of its own, and whether only the dev tooling installs it. */
const ranges = Object.entries(lock.packages).flatMap(([path, entry]) => {
  const node = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
  return path && node ? [{ path, node, dev: !runtime.has(path) }] : [];
});

/** Packages whose Node range does not cover all of `ours`. */
const disagreeing = (ours: string, dev: boolean) =>
  ranges
    .filter((r) => r.dev === dev && !semver.subset(ours, r.node, { includePrerelease: false }))
    .map((r) => `${r.path} wants node ${r.node}`);

describe('engines agree with the lockfile', () => {
  it('the lockfile records engines at all, and the runtime set holds what an app gets (not vacuous)', () => {
    for (const name of ['ws', 'effect', 'xstate', '@nats-io/nuid']) expect(runtime).toContain(`node_modules/${name}`);
    expect(runtime).not.toContain('node_modules/vitest');
    expect(ranges.filter((r) => !r.dev).length).toBeGreaterThan(0);
    expect(ranges.filter((r) => r.dev).length).toBeGreaterThan(0);
  });

  it('every runtime dependency supports every Node version engines.node admits', () => {
    expect(semver.validRange(pkg.engines.node)).not.toBeNull();
    expect(disagreeing(pkg.engines.node, false)).toEqual([]);
  });

  it('every dev dependency supports every Node version devEngines admits', () => {
    expect(pkg.devEngines.runtime.name).toBe('node');
    expect(semver.validRange(pkg.devEngines.runtime.version)).not.toBeNull();
    expect(disagreeing(pkg.devEngines.runtime.version, true)).toEqual([]);
  });

  it('contributors need at least what users need, and the Node running this test is admitted by both', () => {
    expect(semver.subset(pkg.devEngines.runtime.version, pkg.engines.node)).toBe(true);
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
    expect(semver.satisfies(process.version, pkg.devEngines.runtime.version)).toBe(true);
  });
});
