import { describe, expect, it } from 'vitest';
import { cliHelp, parseCli } from '../../bench/cli.js';

const options = {
  child: { type: 'string' },
  rounds: { type: 'string', default: '3', describe: 'rounds' },
  quick: { type: 'boolean', default: false, describe: 'smaller sizes' },
  out: { type: 'string', describe: 'where to write' },
} as const;

describe('bench scenario options (npm run bench -- <scenario> --help)', () => {
  it('--help lists every described option with its default, and hides internal ones', () => {
    expect(cliHelp('npm run bench -- x [options]', options)).toBe(
      [
        'npm run bench -- x [options]',
        '  --rounds V  rounds (default 3)',
        '  --quick     smaller sizes',
        '  --out V     where to write',
        '  --help      this text',
        '',
      ].join('\n'),
    );
  });

  it('parses values with their defaults', () => {
    expect(parseCli('u', options, ['--rounds', '5', '--child', 'a'])).toEqual({
      help: false,
      child: 'a',
      rounds: '5',
      quick: false,
    });
    expect(parseCli('u', options, [])).toMatchObject({ rounds: '3', quick: false });
  });

  it('refuses unknown options and stray arguments instead of measuring something else', () => {
    expect(() => parseCli('u', options, ['--round', '5'])).toThrow(/Unknown option '--round'/);
    expect(() => parseCli('u', options, ['1000'])).toThrow(/Unexpected argument '1000'/);
  });
});
