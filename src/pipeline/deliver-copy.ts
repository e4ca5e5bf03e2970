/**
 * One recipient's copy, from its spool to its outcome: early checks → scanners
 * (in parallel, no lock) → the plan (Sieve's, or the implicit keep) → the one
 * executor (commit/execute-plan.ts) → Sieve's redirects and vacation. Every
 * front end reaches this with a recipient it has resolved and a spool in that
 * recipient's tmp/; the spool is always discarded here, stored or not.
 * Must not: read input, resolve recipients or switch privileges.
 */
import type { Config, ScannerConfig } from '../config/schema.js';
import { executePlan } from '../commit/execute-plan.js';
import type { CommitTarget } from '../commit/prepare-folders.js';
import { stat } from '../io/fs-async.js';
import type { Spool } from '../maildir/spool.js';
import { cleanTmpQuietly } from '../maildir/tmp-cleanup.js';
import type { HeaderField } from '../message/headers.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { quotaFor } from '../quota/limits.js';
import { fileBreakerStore } from '../scanners/breaker-file-store.js';
import type { BreakerStore } from '../scanners/breaker-store.js';
import type { ScannerClient } from '../scanners/types.js';
import type { Session } from '../session/session.js';
import { implicitKeepPlan } from '../sieve/plan.js';
import { userScriptPath } from '../sieve/script-path.js';
import { storeTargets, type StoreTarget } from '../sieve/targets.js';
import { earlyChecks } from './early-checks.js';
import type { Envelope } from './envelope.js';
import { expandMaildir, type Recipient } from './recipient.js';
import { scanStage } from './scan.js';

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

export interface CopyInput {
  rcpt: Recipient;
  /** This recipient's copy, in rcpt.maildir/tmp/. */
  spool: Spool;
  /** The stored header block, and whether Postfix prepended its fields (a From_ line was seen). */
  header: Buffer;
  fromPostfix: boolean;
  fields: HeaderField[];
  envelope: Envelope;
  /** Where the implicit keep stores ('' = INBOX): `mda deliver --folder`. */
  keepFolder: string;
  facts: DeliveryFacts;
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

/**
 * The breakers this copy may trust: the front end's (a server keeps them in
 * memory), else the files of the uid this process now runs as. Never state
 * other users can write: it decides whether their mail is scanned.
 */
const breakersFor = (s: Session, config: Config, uid: number): BreakerStore =>
  s.breakers ?? fileBreakerStore(config.scanning.stateDir, process.geteuid?.() ?? uid);

export async function deliverCopy(s: Session, c: CopyInput): Promise<Outcome> {
  const { config, deadline, logger } = s;
  const { rcpt, facts } = c;
  let spool = c.spool;
  try {
    const stop = earlyChecks(c.envelope, c.fields);
    if (stop) return stop;

    const scanned = await scanStage(spool, {
      root: rcpt.maildir, user: rcpt.user, home: rcpt.home, envelope: c.envelope, header: c.header, fromPostfix: c.fromPostfix,
      createScanner: await scannerFactory(config), breakers: breakersFor(s, config, rcpt.uid), config, deadline, logger, names: s.names,
    });
    if (isOutcome(scanned)) return scanned;
    spool = scanned.spool;
    facts.scan = scanned.why;
    const quota = quotaFor(config, rcpt.user);
    const mbox = rcpt.mbox;
    const execute = async (targets: readonly CommitTarget[]): Promise<Outcome> =>
      mbox
        ? // mbox code (and its native lock addon) loads only for an mbox user: Maildir start-up stays as it was.
          (await import('../commit/execute-mbox-plan.js')).executeMboxPlan({
            session: s, recipient: rcpt.user, place: mbox, uid: rcpt.uid, sender: c.envelope.sender, spool, targets, quota,
            stateDir: expandMaildir(config.sieve.stateDir || '~/.mda', rcpt.user, rcpt.home, rcpt.home),
          })
        : (await executePlan({ session: s, recipient: rcpt.user, maildir: rcpt.maildir, uid: rcpt.uid, spool, targets, quota })).outcome;

    // Infected mail bypasses Sieve: its place is the [virus] action's, never the user's.
    const infected = scanned.verdicts.some((v) => v.status === 'infected');
    const sieveCode = infected ? null : await sieveIfAny(config, rcpt.user, rcpt.home);
    const sieveInput = {
      spool, maildir: rcpt.maildir, user: rcpt.user, home: rcpt.home, envelope: c.envelope, fromPostfix: c.fromPostfix,
      verdicts: scanned.verdicts, keepFolder: c.keepFolder, config, deadline, logger, locks: s.locks, startedAsRoot: s.startedAsRoot, names: s.names,
    };
    const decision = sieveCode ? await sieveCode.sieveStage(sieveInput) : null;
    let outcome: Outcome;
    if (sieveCode && decision) outcome = await sieveCode.deliverWithSieve(decision, sieveInput, execute);
    else {
      // No script: the implicit keep, into the folder scanning routed to or the one asked for.
      const folder = scanned.folder ?? c.keepFolder;
      const keep = storeTargets({ plan: implicitKeepPlan(), keepFolder: folder, spamFolder: '' });
      if (!keep.ok) return temp('config', `folder ${JSON.stringify(folder)}: ${keep.why}`);
      const quarantine = infected && config.virus.action === 'quarantine';
      outcome = await execute(keep.targets.map((t: StoreTarget): CommitTarget => ({ ...t, quarantine })));
    }
    if (outcome.kind === 'delivered') {
      facts.folder = outcome.folder;
      // Files left in tmp/ by killed deliveries: a stat per delivery (a server's: every 10 min), a scan every 8 h (tmp-cleanup.ts). Never throws.
      if (s.maildirs?.tmpCheckDue(rcpt.maildir) ?? true) await cleanTmpQuietly(rcpt.maildir, logger, deadline.signal);
    }
    return outcome;
  } finally {
    await spool.discard();
  }
}
