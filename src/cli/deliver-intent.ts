/**
 * What a command line that names `deliver` asks for, decided before yargs sees
 * it: yargs exits 0 on --help and 64 on a bad flag, and Postfix bounces on 64
 * and silently drops mail on 0 with stdin unread. Also the deliver help text,
 * built from the option table deliver itself parses, so the two cannot disagree.
 * Pure: no I/O.
 */

/**
 * - deliver: the hot path (deliver.ts parses the rest; its errors are 75 already)
 * - deliver-help / deliver-version: help or the version asked for; printed (exit 0) only when
 *   stdin is a terminal, else deferred unread like any other mistake in mailbox_command
 * - deliver-dry-run: an admin's `deliver --dry-run`: prints the plan, stores nothing (exit 0)
 * - deliver-misplaced: 'deliver' named after an option, so the line is a mistake: defer
 * - admin: not a delivery; yargs and the admin exit codes apply
 * bin/mda sends every deliver line holding one of these flags to the full CLI (main.mjs).
 */
export type DeliverIntent = 'deliver' | 'deliver-help' | 'deliver-version' | 'deliver-dry-run' | 'deliver-misplaced' | 'admin';

const HELP_FLAGS = new Set(['--help', '-h']);
export const VERSION_FLAG = '--version';
export const DRY_RUN_FLAG = '--dry-run';

/** deliverIntent classifies argv (without node and the script path). */
export function deliverIntent(argv: readonly string[]): DeliverIntent {
  const first = argv[0] ?? '';
  // `mda --user u deliver`, `mda -x deliver`: options before the command. An admin command
  // (`mda sieve test --script deliver`) starts with its own name, never with '-'.
  const names = first === 'deliver' || (first.startsWith('-') && argv.includes('deliver'));
  if (!names) return 'admin';
  // '--' ends the options: a later '--help' is an operand (which deliver refuses: 75)
  const end = argv.indexOf('--');
  const options = argv.slice(0, end === -1 ? undefined : end);
  if (options.some((a) => HELP_FLAGS.has(a))) return 'deliver-help';
  if (first !== 'deliver') return 'deliver-misplaced';
  // Help first, then the version: each prints and changes nothing; a dry run reads stdin.
  if (options.includes(VERSION_FLAG)) return 'deliver-version';
  if (options.includes(DRY_RUN_FLAG)) return 'deliver-dry-run';
  return 'deliver';
}

export interface OptionHelp {
  /** What the value is called in the help text (`--user <name>`). */
  value: string;
  describe: string;
}

/** deliverHelp renders `mda deliver --help` from one row per option deliver accepts. */
export function deliverHelp(options: Record<string, OptionHelp>): string {
  const rows: [string, string][] = Object.entries(options).map(([name, o]) => [`--${name} <${o.value}>`, o.describe]);
  rows.push(['--dry-run', 'print what would happen (recipient, mailbox, folder, quota, Sieve, scanners); store nothing, exit 0']);
  rows.push(['--version', 'the version and build id; only on a terminal, like --help']);
  rows.push(['--help', 'this text; only on a terminal (in a pipe, as under Postfix, it defers the mail: exit 75)']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    'mda deliver [options] < message',
    '',
    'Deliver one message from stdin into a Maildir (Postfix mailbox_command), e.g.',
    '  mailbox_command = /usr/bin/mda deliver --user "$USER"',
    'Exit 0 when the message is stored (or discarded by a rule); 75 with one 4.x.y line',
    '(Postfix defers) on any failure; a deliberate refusal prints 5.x.y. See mda(1).',
    '',
    'Options:',
    ...rows.map(([l, d]) => `  ${l.padEnd(width)}${d}`),
    '',
  ].join('\n');
}
