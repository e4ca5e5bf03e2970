/**
 * The full CLI (yargs) for everything but the per-message hot path: help,
 * `config check|show`, `quota report|recalc`, `recipients export`, `scanners check`, `sieve check|test`, `lmtp`, `policy`. Commands are listed
 * statically here; handlers return an exit status and only exit.ts exits.
 * A command line that names `deliver` never reaches yargs (deliver-intent.ts): its help, a
 * misplaced flag or anything else ends in the outcome table. yargs' own process.exit is off.
 */
import yargs, { type Argv } from 'yargs';
import { temp } from '../outcome/outcome.js';
import { configCheck, describe as configCheckDescribe } from './commands/config-check.js';
import { configShow, describe as configShowDescribe } from './commands/config-show.js';
import { UID_WORKER_ARG, lmtpServe, describe as lmtpDescribe } from './commands/lmtp.js';
import { runUidWorker } from '../session/uid-worker-main.js';
import { quotaRecalc, describe as quotaRecalcDescribe } from './commands/quota-recalc.js';
import { quotaReport, describe as quotaReportDescribe } from './commands/quota-report.js';
import { quotaWorkerMain } from './commands/quota-worker.js';
import { recipientsExport, describe as recipientsExportDescribe } from './commands/recipients-export.js';
import { QUOTA_WORKER_ARG } from '../quota/maildir-worker.js';
import { scannersCheck, describe as scannersCheckDescribe } from './commands/scanners-check.js';
import { sieveCheck, describe as sieveCheckDescribe } from './commands/sieve-check.js';
import { sieveTest, describe as sieveTestDescribe } from './commands/sieve-test.js';
import { policyServe, describe as policyDescribe } from './commands/policy.js';
import { writeSync } from 'node:fs';
import { DELIVER_OPTIONS, deliverMain } from './deliver.js';
import { deliverHelp, deliverIntent, type OptionHelp } from './deliver-intent.js';
import { exitNow, exitWithCode, installSafetyNets } from './exit.js';
import { versionLine } from './version.js';
import { deliverDryRun } from './commands/deliver-dry-run.js';

/** Exit status for a usage error in admin commands (sysexits EX_USAGE). */
const EX_USAGE = 64;
/** `mda quota` runs from cron, where 1 means "some users over" and 2 any error, bad flags included. */
const QUOTA_ERROR = 2;

/** deliver's options as `mda deliver --help` shows them: exactly the keys deliver.ts parses (the compiler checks). */
const DELIVER_HELP: Record<keyof typeof DELIVER_OPTIONS, OptionHelp> = {
  user: { value: 'name', describe: 'recipient user (default: $USER)' },
  maildir: { value: 'path', describe: 'Maildir path (default: config, else ~/Maildir)' },
  folder: { value: 'name', describe: 'Maildir++ folder as IMAP shows it (UTF-8), e.g. Lists.Debian' },
  mbox: { value: 'file', describe: 'deliver to this mbox file instead of the Maildir, e.g. /var/mail/$USER' },
  config: { value: 'file', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' },
  sender: { value: 'address', describe: 'envelope sender (default: from Postfix)' },
  recipient: { value: 'address', describe: 'envelope recipient (default: from Postfix)' },
  deadline: { value: 'time', describe: 'total time limit, 1s-900s, e.g. 240s (default: config)' },
};

/** A deliver command line that is not a plain delivery: help or the version on a terminal, else defer unread. */
function deliverOther(intent: 'deliver-help' | 'deliver-version' | 'deliver-misplaced', argv: string[]): never {
  installSafetyNets();
  const text = intent === 'deliver-help' ? deliverHelp(DELIVER_HELP) : intent === 'deliver-version' ? versionLine() : undefined;
  if (text !== undefined && process.stdin.isTTY) {
    writeSync(1, text);
    return exitWithCode(0);
  }
  if (text !== undefined) return exitNow(temp('usage', `${intent === 'deliver-help' ? '--help' : '--version'} given while stdin is not a terminal: message not read`));
  return exitNow(temp('usage', `'deliver' must be the first argument (got ${JSON.stringify(argv.join(' '))})`));
}

export async function main(argv: string[]): Promise<never> {
  // A per-Maildir worker of `mda quota` (started by the command itself, as the Maildir's owner): no yargs.
  if (argv[0] === QUOTA_WORKER_ARG && argv.length === 1) return quotaWorkerMain();
  // A per-uid delivery worker of `mda lmtp` (system-users mode): serves its IPC channel until the server leaves.
  if (argv[0] === UID_WORKER_ARG && argv.length === 1) {
    runUidWorker();
    return new Promise<never>(() => undefined);
  }
  const intent = deliverIntent(argv);
  if (intent === 'deliver') return deliverMain(argv.slice(1));
  if (intent === 'deliver-dry-run') return exitWithCode(await deliverDryRun(argv.slice(1)));
  if (intent !== 'admin') return deliverOther(intent, argv);
  let code = 0;
  const cli = yargs(argv)
    .scriptName('mda')
    .usage('$0 <command> [options]')
    // Listed for `mda --help` only: main() hands every deliver command line to deliverMain/deliverOther.
    .command('deliver', 'Deliver one message from stdin into a Maildir (Postfix mailbox_command; mda deliver --help)')
    .command('config', 'Configuration commands', (y) =>
      y
        .command(
          'check',
          configCheckDescribe,
          (yy) => yy.option('config', { type: 'string', describe: 'config file to check' }),
          async (args) => {
            code = await configCheck({ config: args.config });
          },
        )
        .command(
          'show',
          configShowDescribe,
          (yy) =>
            yy
              .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' })
              .option('defaults', { type: 'boolean', describe: 'only the embedded defaults (no file is read)' })
              .option('changed', { type: 'boolean', describe: 'only the settings that differ from the defaults (like postconf -n)' })
              .conflicts('defaults', ['changed', 'config']),
          async (args) => {
            code = await configShow({ config: args.config, defaults: args.defaults, changed: args.changed });
          },
        )
        .demandCommand(1, 'name a config subcommand: check, show'),
    )
    .command('quota', 'Maildir++ quota commands (see mda-quota(1))', (y) =>
      y
        .command(
          'report',
          quotaReportDescribe,
          (yy) =>
            quotaSelection(yy)
              .option('over', { type: 'string', describe: 'print only users at or over PERCENT of a limit; exit 1 if any' })
              .option('format', { choices: ['table', 'json', 'csv'] as const, default: 'table' as const, describe: 'output format' }),
          async (args) => {
            code = await quotaReport({ config: args.config, user: args.user, maildirGlob: args.maildirGlob, userTimeout: args.userTimeout, over: args.over, format: args.format });
          },
        )
        .command(
          'recalc',
          quotaRecalcDescribe,
          (yy) => quotaSelection(yy),
          async (args) => {
            code = await quotaRecalc({ config: args.config, user: args.user, maildirGlob: args.maildirGlob, userTimeout: args.userTimeout });
          },
        )
        .demandCommand(1, 'name a quota subcommand: report, recalc'),
    )
    .command('recipients', 'Recipient commands (see mda-recipients(1))', (y) =>
      y
        .command(
          'export',
          recipientsExportDescribe,
          (yy) =>
            yy
              .option('output', { type: 'string', describe: 'write FILE atomically (mode 0644) instead of stdout' })
              .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' })
              .option('virtual-only', { type: 'boolean', describe: 'leave out system accounts (default: when [lmtp] user is set); --no-virtual-only includes them' }),
          async (args) => {
            code = await recipientsExport({ output: args.output, config: args.config, virtualOnly: args.virtualOnly });
          },
        )
        .demandCommand(1, 'name a recipients subcommand: export'),
    )
    .command('scanners', 'Content scanner commands', (y) =>
      y
        .command(
          'check',
          scannersCheckDescribe,
          (yy) =>
            yy
              .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' })
              .option('user', { type: 'string', describe: "show this user's circuit breakers (default: the invoking user's)" }),
          async (args) => {
            code = await scannersCheck({ config: args.config, user: args.user });
          },
        )
        .demandCommand(1, 'name a scanners subcommand: check'),
    )
    .command('sieve', 'Sieve script commands', (y) =>
      y
        .command(
          'check <files..>',
          sieveCheckDescribe,
          (yy) => yy.positional('files', { type: 'string', array: true, demandOption: true, default: undefined, describe: 'Sieve scripts to compile' }),
          async (args) => {
            code = await sieveCheck({ files: args.files });
          },
        )
        .command(
          'test',
          sieveTestDescribe,
          (yy) =>
            yy
              .option('script', { type: 'string', array: true, demandOption: true, describe: 'Sieve script (repeat for a chain: before…, user, after…)' })
              .option('sender', { type: 'string', describe: 'envelope sender (default: Return-Path of the message)' })
              .option('recipient', { type: 'string', describe: 'envelope recipient (default: Delivered-To of the message)' })
              .option('now', { type: 'string', describe: 'run as if it were this date-time, e.g. 2026-12-24T09:30:00+01:00 (currentdate; default: now)' })
              .option('config', { type: 'string', describe: 'config file for the [sieve] limits (default: $MDA_CONFIG, /etc/mda/mda.toml)' }),
          async (args) => {
            code = await sieveTest({ script: args.script, sender: args.sender, recipient: args.recipient, config: args.config, now: args.now });
          },
        )
        .demandCommand(1, 'name a sieve subcommand: check, test'),
    )
    .command(
      'policy',
      policyDescribe,
      (yy) =>
        yy
          .option('listen', { type: 'string', array: true, demandOption: true, describe: 'unix:/path or HOST:PORT (127.0.0.1:10031); repeatable' })
          .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' }),
      async (args) => {
        code = await policyServe({ listen: args.listen, config: args.config });
      },
    )
    .command(
      'lmtp',
      lmtpDescribe,
      (yy) =>
        yy
          .option('listen', { type: 'string', array: true, demandOption: true, describe: 'unix:/path or HOST:PORT ([::1]:24); repeatable' })
          .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' })
          .option('metrics', { type: 'string', describe: 'serve Prometheus metrics on HOST:PORT (GET /metrics)' }),
      async (args) => {
        code = await lmtpServe({ listen: args.listen, config: args.config, metrics: args.metrics });
      },
    )
    .demandCommand(1, 'name a command: deliver, config check, config show, quota report, quota recalc, recipients export, scanners check, sieve check, sieve test, lmtp, policy')
    .strict()
    .help()
    .version(versionLine().trimEnd())
    .exitProcess(false)
    .fail((msg, err) => {
      if (argv[0] === 'quota') {
        // cron reads stderr line by line: one line per error
        process.stderr.write(`mda: ${(msg || err?.message || 'bad arguments').replace(/\s*\n\s*/g, ' ')} (see mda quota --help)\n`);
        exitWithCode(QUOTA_ERROR);
      }
      process.stderr.write(`mda: ${msg || err?.message}\nRun 'mda --help' for usage.\n`);
      exitWithCode(EX_USAGE);
    });
  await cli.parseAsync();
  return exitWithCode(code);
}

/** The options both quota subcommands use to pick Maildirs. */
function quotaSelection<T>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' })
    .option('user', { type: 'string', array: true, describe: 'only these users (repeatable); an account without [users.NAME] is included' })
    .option('maildir-glob', { type: 'string', array: true, describe: 'also every directory matching PATTERN, e.g. "/srv/mail/*/Maildir" (repeatable)' })
    .option('user-timeout', { type: 'string', describe: 'time limit per Maildir, e.g. 30s; a Maildir still being read then is an error line (default 5m)' });
}
