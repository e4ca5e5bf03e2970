/**
 * `mda quota recalc`: rebuilds maildirsize from the folders for each selected
 * Maildir, under the same quota-recalc lock deliveries use, and prints
 * `user bytes messages` per Maildir in a stable order. Exit 0, or 2 on any error.
 * Must not: print a report (quota-report.ts) or touch messages.
 */
import { EXIT_ERROR, EXIT_OK, printable } from '../../quota/report.js';
import { mapLimited, visitMaildir, type MailboxResult } from '../../quota/users.js';
import { processIo, startRun, stoppedLine, type QuotaIo, type SelectArgs } from './quota-report.js';

export const describe = 'Rebuild maildirsize from the Maildir folders (under the recalc lock) and print "user bytes messages"';

export async function quotaRecalc(args: SelectArgs, io: QuotaIo = processIo()): Promise<number> {
  const run = await startRun('recalc', args, io);
  if (!run) return EXIT_ERROR;
  try {
    const { targets, errors } = run.selection;
    for (const e of errors) run.fail(e);
    // Lines stream out in target order even though Maildirs finish in any order.
    const results: (MailboxResult | undefined)[] = [];
    let printed = 0;
    let failed = 0;
    // final: after a stop, also print what finished behind a Maildir that never did.
    const flush = (final = false): void => {
      let text = '';
      for (; printed < targets.length && (final || results[printed]); printed++) {
        const t = targets[printed]!;
        const r = results[printed];
        if (!r) continue;
        if ('usage' in r) text += `${printable(t.user)} ${r.usage.bytes} ${r.usage.count}\n`;
        else if ('error' in r) {
          failed++;
          run.fail(`${t.user} (${t.maildir}): ${r.error}`);
        }
      }
      // process.stdout is synchronous for files, pipes and terminals on Linux: nothing to await before exit.
      if (text) io.out.write(text);
    };
    const done = await mapLimited(targets, run.workers, run.deadline.signal, (t) => visitMaildir(t, 'rebuild', run.mailbox), (i, r) => {
      results[i] = 'missing' in r ? { error: `Maildir ${targets[i]!.maildir} does not exist` } : r;
      flush();
    });
    flush(true);
    const stopped = stoppedLine(run, done.filter((r) => r === undefined).length);
    if (stopped) run.fail(stopped);
    return errors.length > 0 || failed > 0 || stopped ? EXIT_ERROR : EXIT_OK;
  } finally {
    run.end();
  }
}
