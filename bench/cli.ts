/**
 * Options of a standalone scenario, parsed strictly, with `--help`: CONTRIBUTING.md promises that
 * `npm run bench -- <scenario> --help` lists a scenario's options, and a scenario that parses
 * strictly without declaring `help` threw on it instead.
 */
import { parseArgs } from 'node:util';

export interface CliOption {
  readonly type: 'string' | 'boolean';
  readonly default?: string | boolean;
  /** One line for --help. Without it the option is internal (a child process's own flag) and not listed. */
  readonly describe?: string;
}

type Values<O extends Record<string, CliOption>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['default'] extends string
      ? string
      : string | undefined;
};

/** The --help text: the usage line, then each listed option with its default. */
export function cliHelp(usage: string, options: Readonly<Record<string, CliOption>>): string {
  const rows = Object.entries(options)
    .filter(([, o]) => o.describe !== undefined)
    .map(([name, o]) => [
      `--${name}${o.type === 'string' ? ' V' : ''}`,
      `${o.describe}${o.type === 'string' && o.default !== undefined ? ` (default ${String(o.default)})` : ''}`,
    ]);
  rows.push(['--help', 'this text']);
  const width = Math.max(...rows.map(([flag]) => flag!.length));
  return `${usage}\n${rows.map(([flag, text]) => `  ${flag!.padEnd(width)}  ${text}`).join('\n')}\n`;
}

/**
 * Parses `argv` against `options` (unknown options and stray arguments throw). On `--help` it
 * prints cliHelp() and exits 0, so a scenario never starts a measurement to show its options.
 */
export function parseCli<const O extends Record<string, CliOption>>(
  usage: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
): Values<O> {
  const config: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }> = {
    help: { type: 'boolean', default: false },
  };
  for (const [name, o] of Object.entries(options))
    config[name] = o.default === undefined ? { type: o.type } : { type: o.type, default: o.default };
  const { values } = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false });
  if (values['help'] === true) {
    process.stdout.write(cliHelp(usage, options));
    process.exit(0);
  }
  return values as Values<O>;
}
