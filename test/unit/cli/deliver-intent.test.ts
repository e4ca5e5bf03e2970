import { describe, expect, it } from 'vitest';
import { deliverHelp, deliverIntent } from '../../../src/cli/deliver-intent.js';

describe('deliverIntent: a command line naming deliver never reaches yargs (exit 0/64 there)', () => {
  it.each([
    [['deliver'], 'deliver'],
    [['deliver', '--user', 'u'], 'deliver'],
    [['deliver', '--bogus'], 'deliver'], // deliver.ts refuses it with 75
    [['deliver', '--version'], 'deliver-version'],
    [['deliver', '--user', 'u', '--version'], 'deliver-version'],
    [['deliver', '--version', '--help'], 'deliver-help'],
    [['deliver', '--', '--version'], 'deliver'], // an operand: deliver refuses it (75)
    [['deliver', '--dry-run'], 'deliver-dry-run'],
    [['deliver', '--user', 'u', '--dry-run', '--folder', 'x'], 'deliver-dry-run'],
    [['deliver', '--dry-run', '--help'], 'deliver-help'],
    [['deliver', '--dry-run', '--version'], 'deliver-version'],
    [['deliver', '--', '--dry-run'], 'deliver'],
    [['--dry-run', 'deliver'], 'deliver-misplaced'],
    [['deliver', '--help'], 'deliver-help'],
    [['deliver', '-h'], 'deliver-help'],
    [['deliver', '--user', 'u', '--help'], 'deliver-help'],
    [['--help', 'deliver'], 'deliver-help'],
    [['deliver', '--', '--help'], 'deliver'], // an operand after '--': deliver refuses it (75)
    [['--bogus', 'deliver'], 'deliver-misplaced'],
    [['-x', 'deliver', '--user', 'u'], 'deliver-misplaced'],
    [['--version', 'deliver'], 'deliver-misplaced'],
    [['--user', 'u', 'deliver'], 'deliver-misplaced'],
    [[], 'admin'],
    [['--help'], 'admin'],
    [['--version'], 'admin'],
    [['delivr'], 'admin'],
    [['sieve', 'test', '--script', 'deliver'], 'admin'],
    [['config', 'check', '--help'], 'admin'],
  ] as const)('%j → %s', (argv, want) => expect(deliverIntent(argv)).toBe(want));
});

describe('deliverHelp', () => {
  it('lists exactly the given options plus --dry-run, --version and --help, one per line', () => {
    const text = deliverHelp({ user: { value: 'name', describe: 'who' }, folder: { value: 'name', describe: 'where' } });
    const listed = [...text.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(['user', 'folder', 'dry-run', 'version', 'help']);
    expect(text).toMatch(/^ {2}--user <name> +who$/m);
  });
});
