/** The machine and the software a run was made with, for the report. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuModel, openFileLimit } from './proc.js';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly taskset: boolean;
  readonly openFiles: number;
  readonly versions: Readonly<Record<string, string>>;
  readonly commit: string;
}

const version = (root: string, pkg: string): string => {
  try {
    return (
      JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
};

function commit(root: string): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'machines'], { cwd: root, encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? ' (with uncommitted changes in src/ or machines/)' : ''}`;
}

export function describeMachine(root: string, taskset: boolean): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    taskset,
    openFiles: openFileLimit(),
    versions: Object.fromEntries(
      ['ws', 'socket.io', 'socket.io-client', 'xstate', 'hdr-histogram-js'].map((p) => [p, version(root, p)]),
    ),
    commit: commit(root),
  };
}
