/**
 * The one entry to every benchmark: `npm run bench [-- <scenario>] [-- options]`.
 *
 * Without a scenario name it runs the comparative suite (bench/run.ts: actorhub against raw `ws`
 * and socket.io in the same run; its options, such as `--quick` or `--only fanout`, pass through).
 * With a name it runs that standalone measurement with the rest of the arguments. Each runs as its
 * own Node process, exactly as if started directly: several of them re-execute their own file as
 * child processes or check that they are the main module, and their exit codes carry their checks.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isScenario, SCENARIOS } from './scenarios.js';

const [first, ...rest] = process.argv.slice(2);

if (first === 'list') {
  const width = Math.max(...Object.keys(SCENARIOS).map((name) => name.length));
  process.stdout.write(
    'npm run bench -- <scenario> [options]   (no scenario: the suite; --help after a name: its options)\n',
  );
  for (const [name, [, what]] of Object.entries(SCENARIOS)) process.stdout.write(`  ${name.padEnd(width)}  ${what}\n`);
  process.exit(0);
}

const [scenario, args] = isScenario(first) ? [first, rest] : (['suite', process.argv.slice(2)] as const);
const script = fileURLToPath(new URL(SCENARIOS[scenario][0], import.meta.url));
const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
// Ctrl-C reaches the whole process group; SIGTERM from a supervisor is passed on.
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
