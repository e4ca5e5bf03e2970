/**
 * The full CLI (yargs) for everything but the per-message hot path: help,
 * `config check`, and later `quota`, `scanners`, `sieve`. Commands are listed
 * statically here; handlers return an exit status and only exit.ts exits.
 * yargs' own process.exit(1) is switched off: in deliver mode exit 1 would bounce mail.
 */
import yargs from 'yargs';
import { temp } from '../outcome/outcome.js';
import { configCheck, describe as configCheckDescribe } from './commands/config-check.js';
import { deliverMain } from './deliver.js';
import { exitNow, exitWithCode } from './exit.js';

/** Exit status for a usage error in admin commands (sysexits EX_USAGE). */
const EX_USAGE = 64;

export async function main(argv: string[]): Promise<never> {
  const isDeliver = argv[0] === 'deliver';
  let code = 0;
  const cli = yargs(argv)
    .scriptName('mda')
    .usage('$0 <command> [options]')
    .command(
      'deliver',
      'Deliver one message from stdin into a Maildir (Postfix mailbox_command)',
      (y) =>
        y
          .option('user', { type: 'string', describe: 'recipient user (default: $USER)' })
          .option('maildir', { type: 'string', describe: 'Maildir path (default: config, else ~/Maildir)' })
          .option('folder', { type: 'string', describe: 'Maildir++ folder, e.g. Lists.Debian' })
          .option('config', { type: 'string', describe: 'config file (default: $MDA_CONFIG, /etc/mda/mda.toml)' })
          .option('sender', { type: 'string', describe: 'envelope sender (default: from Postfix)' })
          .option('recipient', { type: 'string', describe: 'envelope recipient (default: from Postfix)' })
          .option('deadline', { type: 'string', describe: 'total time limit, e.g. 240s (default: config)' }),
      async () => {
        await deliverMain(argv.slice(1).filter((a) => a !== '--help' && a !== '-h'));
      },
    )
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
        .demandCommand(1, 'name a config subcommand: check'),
    )
    .demandCommand(1, 'name a command: deliver, config check')
    .strict()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      if (isDeliver) exitNow(temp('usage', msg || err?.message || 'bad arguments'));
      process.stderr.write(`mda: ${msg || err?.message}\nRun 'mda --help' for usage.\n`);
      exitWithCode(EX_USAGE);
    });
  await cli.parseAsync();
  return exitWithCode(code);
}
