/**
 * `mda deliver --dry-run [deliver's flags] < message`: an admin's preview of a delivery.
 * Resolves the recipient and Maildir as deliver does, reads the message into memory,
 * evaluates Sieve as `mda sieve test` does, lists the scanners that would run and takes
 * the quota decision from maildirsize as it is. Prints the plan on stdout and exits 0;
 * 64 for bad flags, 1 for a bad config (people's exit codes: it is not a Postfix command).
 * Must not: create, write or lock anything (no Maildir, no spool, no maildirsize
 * recount, no Sieve cache or state), connect to a scanner, send mail, or switch user.
 */
import { stat } from 'node:fs/promises';
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { Deadline } from '../../deadline/deadline.js';
import { runningAsRoot } from '../../io/trusted-path.js';
import { HeadSplitter } from '../../message/head-splitter.js';
import { firstValue, parseHeaders } from '../../message/headers.js';
import { reject, temp, type Outcome } from '../../outcome/outcome.js';
import { outcomeText, quotaLines, scannerLines } from '../../pipeline/dry-run-report.js';
import { earlyChecks } from '../../pipeline/early-checks.js';
import { buildEnvelope } from '../../pipeline/envelope.js';
import { resolveRecipient, type Recipient } from '../../pipeline/recipient.js';
import { quotaFor } from '../../quota/limits.js';
import { readMaildirsize } from '../../quota/store.js';
import { mailboxDir } from '../../sieve/mailbox-name.js';
import { userScriptPath } from '../../sieve/script-path.js';
import { storeTargets } from '../../sieve/targets.js';
import { implicitKeepPlan, type SievePlan } from '../../sieve/plan.js';
import { createLogger } from '../../log/logger.js';
import { loadIncludes } from '../../pipeline/sieve-include-load.js';
import { loadSieveScripts } from '../../pipeline/sieve-load.js';
import type { Envelope } from '../../pipeline/envelope.js';
import { render, sieveMessage, testPlan } from './sieve-test.js';
import { parseDeliverFlags } from '../deliver.js';
import { DRY_RUN_FLAG } from '../deliver-intent.js';

const EX_USAGE = 64;
/** A dry run has no Postfix waiting on it, but an account lookup or a stuck read still must end. */
const DRY_RUN_MS = 60_000;

export interface DryRunIo {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  stdin: AsyncIterable<Buffer | string>;
}

const processIo = (): DryRunIo => ({ out: process.stdout, err: process.stderr, env: process.env, stdin: process.stdin });

/** deliverDryRun: argv is deliver's (without 'deliver'), holding --dry-run before any '--'. */
export async function deliverDryRun(argv: string[], io: DryRunIo = processIo()): Promise<number> {
  const at = argv.indexOf(DRY_RUN_FLAG);
  let flags;
  try {
    flags = parseDeliverFlags(argv.filter((_, i) => i !== at));
  } catch (err) {
    io.err.write(`mda deliver --dry-run: ${(err as Error).message}\n`);
    return EX_USAGE;
  }
  let config: Config;
  try {
    config = loadConfig(findConfigPath(flags.config, io.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`${err.message}\n`);
    return 1;
  }
  const out: string[] = ['dry run: nothing is stored, sent or locked', `config: ${config.source}`];
  const finish = (o: Outcome | undefined): number => {
    if (o) out.push(`outcome: ${outcomeText(o)}`);
    io.out.write(`${out.join('\n')}\n`);
    return 0;
  };
  const deadline = Deadline.start(DRY_RUN_MS, { graceMs: 1_000, onHardStop: () => undefined });
  try {
    const rcpt = await deadline.race(resolveRecipient(flags, config, io.env, deadline.signal));
    if ('kind' in rcpt) return finish(rcpt);
    out.push(recipientLine(rcpt));
    out.push(`mailbox: ${rcpt.maildir} (${(await exists(`${rcpt.maildir}/new`)) ? 'exists' : 'missing: a delivery would create it'})`);
    if (rcpt.mbox) out.push(`mbox: ${rcpt.mbox.inbox} (${(await exists(rcpt.mbox.inbox)) ? 'exists' : 'missing'}); folders: ${rcpt.mbox.folders ?? `Maildir++ in ${rcpt.mbox.folderMaildir}`}`);
    const keepFolder = flags.folder ?? '';
    const folder = mailboxDir(keepFolder);
    if (!folder.ok) return finish(temp('usage', `refusing folder ${JSON.stringify(keepFolder)}: ${folder.why}`));
    out.push(`folder: ${keepFolder === '' ? 'INBOX' : `${keepFolder} (${folder.dir}/)`}`);

    const message = await readMessage(io.stdin, config.delivery.maxMessageSize);
    if ('kind' in message) return finish(message);
    const fields = parseHeaders(message.header);
    const envelope = buildEnvelope(flags, message.fromLine, fields, io.env);
    out.push(`envelope: from <${envelope.sender}> to <${envelope.recipient}>`);
    out.push(`message: ${message.body.length} bytes${firstValue(fields, 'message-id') ? `, Message-ID ${firstValue(fields, 'message-id')}` : ''}`);
    const stop = earlyChecks(envelope, fields);
    if (stop) return finish(stop);
    out.push(...scannerLines(config.scanners, message.body.length));

    const plan = (await sievePlan(config, rcpt, message.body, envelope, keepFolder, out, deadline)) ?? implicitKeepPlan();
    const targets = storeTargets({ plan, keepFolder, spamFolder: '' });
    if (!targets.ok) return finish(temp('config', `folder ${JSON.stringify(keepFolder)}: ${targets.why}`));
    const quota = quotaFor(config, rcpt.user);
    const file = await readMaildirsize(rcpt.maildir);
    out.push(...quotaLines({
      quota, messageBytes: message.body.length, copies: targets.targets.length, nowMs: Date.now(),
      file: file && { parsed: file.parsed, size: file.size, mtimeMs: file.mtimeMs, header: file.header?.limits },
    }));
    const stores = targets.targets.map((t) => t.mailbox || 'INBOX');
    out.push(stores.length ? `outcome: would store in ${stores.join(', ')}` : 'outcome: would discard (exit 0)');
    return finish(undefined);
  } finally {
    deadline.dispose();
  }
}

function recipientLine(r: Recipient): string {
  const as = r.switchTo ? `; as root a delivery would switch to uid ${r.switchTo.uid}` : '';
  return `recipient: ${r.user} (uid ${r.uid}, home ${r.home}${as})`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false; // missing or unreadable: either way a delivery would try to create it
  }
}

/** readMessage reads stdin into memory (From_ line removed), refusing what deliver would refuse for size. */
async function readMessage(stdin: AsyncIterable<Buffer | string>, maxSize: number): Promise<{ body: Buffer; header: Buffer; fromLine: string | undefined } | Outcome> {
  const splitter = new HeadSplitter();
  const parts: Buffer[] = [];
  let bytes = 0;
  let tooLarge = false;
  const keep = (b: Buffer): void => {
    bytes += b.length;
    if (bytes > maxSize) tooLarge = true; // keep reading: the writer must not get EPIPE
    else parts.push(b);
  };
  for await (const chunk of stdin) keep(splitter.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  keep(splitter.end());
  if (tooLarge) return reject('too-large', `message exceeds the limit of ${maxSize} bytes`);
  if (bytes === 0) return temp('usage', 'empty message on stdin');
  const head = splitter.head();
  return { body: Buffer.concat(parts), header: head.header, fromLine: head.fromLine };
}

/**
 * sievePlan loads the scripts a delivery would run (read only: no compiled-script cache is
 * written) and evaluates them as `mda sieve test` does, adding its plan and trace to `out`.
 * undefined = no Sieve (no script, or unusable scripts: a delivery then keeps the message).
 */
async function sievePlan(config: Config, rcpt: Recipient, body: Buffer, envelope: Envelope, keepFolder: string, out: string[], deadline: Deadline): Promise<SievePlan | undefined> {
  const s = config.sieve;
  const userPath = userScriptPath(s.script, rcpt.user, rcpt.home);
  if (s.before.length === 0 && s.after.length === 0 && (userPath === undefined || !(await exists(userPath)))) {
    out.push(`sieve: none (no script${userPath ? ` at ${userPath}` : ''})`);
    return undefined;
  }
  // Warnings (a missing admin script) go to stderr, apart from the plan.
  const logger = createLogger({ kind: 'stderr' }, 'mda', undefined, { stderrNow: true });
  const root = runningAsRoot();
  const loaded = await loadSieveScripts(config, rcpt.user, rcpt.home, deadline, logger, { adminRootOnly: root });
  if (loaded.kind === 'none') {
    out.push('sieve: none');
    return undefined;
  }
  if (loaded.kind === 'error') {
    out.push('sieve: unusable; a delivery would store without Sieve (implicit keep):', ...loaded.errors.map((e) => `  ${e}`));
    return undefined;
  }
  out.push(`sieve: ${[...s.before, ...(userPath ? [userPath] : []), ...s.after].join(', ')}`);
  const personal = userScriptPath(s.dir, rcpt.user, rcpt.home);
  const included = await loadIncludes(loaded.scripts, { personal, global: s.globalDir || undefined, maxScriptSize: s.maxScriptSize, globalRootOnly: root }, logger, deadline);
  const plan = testPlan(loaded.scripts, sieveMessage(body), { sender: envelope.sender, recipient: envelope.recipient, config, nowMs: Date.now(), includes: included?.source });
  const text = render(plan, envelope.sender, envelope.recipient, keepFolder);
  // render's first line repeats the envelope printed above
  out.push(...text.trimEnd().split('\n').slice(1).map((l) => `  ${l}`));
  return plan;
}
