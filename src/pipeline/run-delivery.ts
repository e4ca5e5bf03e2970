/**
 * The delivery story, top to bottom: recipient → privileges → mailbox →
 * spool (stdin → Maildir tmp/) → envelope → early checks → scanners (in
 * parallel, no lock) → Sieve (sieve.ts: a plan, or none) → routing → commit
 * (under the recipient's lock: quota check → Maildir write → maildirsize
 * append) → outcome.
 * Each step either yields a value or ends the delivery with an Outcome; all
 * policy lives in the named modules. Every thrown error becomes a temporary
 * outcome here, never an exit 1.
 */
import type { Config, ScannerConfig } from '../config/schema.js';
import type { ScannerClient } from '../scanners/types.js';
import type { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import { folderDir } from '../maildir/names.js';
import { Spool } from '../maildir/spool.js';
import { cleanTmpQuietly } from '../maildir/tmp-cleanup.js';
import { firstValue, parseHeaders } from '../message/headers.js';
import { classifyError } from '../outcome/classify.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { switchToAccount } from '../privileges/switch-user.js';
import { quotaFor } from '../quota/limits.js';
import { commitDelivery } from './commit.js';
import { scanStage } from './scan.js';
import { userScriptPath } from '../sieve/script-path.js';
import { stat } from '../io/fs-async.js';
import { earlyChecks } from './early-checks.js';
import { buildEnvelope } from './envelope.js';
import { resolveRecipient } from './recipient.js';
import { spoolStdin } from './spool-stdin.js';

export interface DeliveryArgs {
  user?: string;
  maildir?: string;
  folder?: string;
  sender?: string;
  recipient?: string;
}

export interface DeliveryContext {
  config: Config;
  deadline: Deadline;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  stdin: AsyncIterable<Buffer | string>;
}

/** What the delivery learned, for the log line. */
export interface DeliveryFacts {
  user?: string;
  sender?: string;
  recipient?: string;
  messageId?: string;
  size?: number;
  folder?: string;
  /** Why scanning routed the message (spam, virus), for the log. */
  scan?: string;
}

const isOutcome = (v: object): v is Outcome => 'kind' in v;

/**
 * The Sieve interpreter loads only when a script can apply: admin scripts are
 * configured, or the user's script file exists (absent = no filtering). Most
 * deliveries then skip ~150 KB of code at start-up.
 */
async function sieveIfAny(config: Config, user: string, home: string) {
  const s = config.sieve;
  if (s.before.length === 0 && s.after.length === 0) {
    const path = userScriptPath(s.script, user, home);
    if (path === undefined) return null;
    try {
      await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // anything else (EACCES...) is the Sieve loader's to report
    }
  }
  return import('./sieve.js');
}

/** Scanner code (net, dns, child_process) loads only when scanners are configured: startup is the hot path. */
async function scannerFactory(config: Config): Promise<(cfg: ScannerConfig) => ScannerClient> {
  if (config.scanners.length === 0) return () => { throw new Error('no scanners configured'); };
  return (await import('../scanners/registry.js')).createScanner;
}

export async function runDelivery(
  args: DeliveryArgs,
  ctx: DeliveryContext,
  facts: DeliveryFacts,
): Promise<Outcome> {
  const { config, deadline, env } = ctx;
  try {
    const rcpt = await deadline.race(resolveRecipient(args, config, env, deadline.signal));
    if (isOutcome(rcpt)) return rcpt;
    facts.user = rcpt.user;
    if (rcpt.switchTo) switchToAccount(rcpt.switchTo); // before any path of the user's is touched

    const folder = folderDir(args.folder);
    if (!folder.ok) return temp('usage', `refusing folder ${JSON.stringify(args.folder)}: ${folder.why}`);
    facts.folder = args.folder ?? '';
    await deadline.race(prepareMailbox(rcpt.maildir, folder.dir, rcpt.uid));

    let spool = await deadline.race(Spool.create(rcpt.maildir));
    try {
      const head = await spoolStdin(ctx.stdin, spool, config.delivery.maxMessageSize, deadline);
      facts.size = spool.bytes;
      if (isOutcome(head)) return (await spool.discard(), head);

      const fields = parseHeaders(head.header);
      const envelope = buildEnvelope(args, head.fromLine, fields, env);
      Object.assign(facts, { sender: envelope.sender, recipient: envelope.recipient, messageId: firstValue(fields, 'message-id') });
      const stop = earlyChecks(envelope, fields);
      if (stop) return (await spool.discard(), stop);

      const scanned = await scanStage(spool, {
        root: rcpt.maildir, user: rcpt.user, home: rcpt.home, envelope, header: head.header, fromPostfix: head.fromLine !== undefined,
        createScanner: await scannerFactory(config), config, deadline, logger: ctx.logger,
      });
      if (isOutcome(scanned)) return (await spool.discard(), scanned);
      spool = scanned.spool;
      facts.scan = scanned.why;
      // Sieve (src/pipeline/sieve.ts): null when no script applies; then the single-folder commit below runs as before.
      const sieveInput = {
        spool, maildir: rcpt.maildir, user: rcpt.user, home: rcpt.home, uid: rcpt.uid, envelope, fromPostfix: head.fromLine !== undefined,
        verdicts: scanned.verdicts, keepFolder: args.folder ?? '', config, deadline, logger: ctx.logger,
      };
      const sieveCode = await sieveIfAny(config, rcpt.user, rcpt.home);
      const sieve = sieveCode ? await sieveCode.sieveStage(sieveInput) : null;
      if (sieveCode && sieve) {
        const outcome = await sieveCode.deliverWithSieve(sieve, sieveInput, quotaFor(config, rcpt.user));
        if (outcome.kind === 'delivered') {
          facts.folder = outcome.folder;
          await cleanTmpQuietly(rcpt.maildir, ctx.logger, deadline.signal);
        }
        return outcome;
      }
      let targetDir = folder.dir;
      if (scanned.folder !== undefined) {
        const routed = folderDir(scanned.folder);
        if (!routed.ok) return (await spool.discard(), temp('config', `routing folder ${JSON.stringify(scanned.folder)}: ${routed.why}`));
        facts.folder = scanned.folder;
        targetDir = routed.dir;
        await deadline.race(prepareMailbox(rcpt.maildir, targetDir, rcpt.uid));
      }

      // Not raced against the deadline: once linking starts it must finish; a hang here is the watchdog's.
      const { maildir } = rcpt;
      const outcome = await commitDelivery({ maildir, folderDir: targetDir, folder: facts.folder, spool, quota: quotaFor(config, rcpt.user), config, deadline, logger: ctx.logger });
      // Files left in tmp/ by killed deliveries: a stat per delivery, a scan every 8 h (tmp-cleanup.ts). Never throws.
      if (outcome.kind === 'delivered') await cleanTmpQuietly(maildir, ctx.logger, deadline.signal);
      return outcome;
    } catch (err) {
      await spool.discard();
      throw err;
    }
  } catch (err) {
    return classifyError(err, 'delivery', { overQuota: config.quota.overQuota });
  }
}
