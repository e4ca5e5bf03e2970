/**
 * The Sieve stage, between scanning and commit: load the scripts, build what they may look at (only
 * what they use: size, body, folders, duplicate state), evaluate into a plan; deliverWithSieve then
 * stores (through the one executor) and runs redirects, vacation and enotify notifications. Infected mail bypasses Sieve; spam's implicit keep goes to
 * [spam] folder. Must not: bounce or defer because of a script (errors mean INBOX).
 */
import { constants as C } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { open, read, readdirNames, unlink, withFd } from '../io/fs-async.js';
import type { LockHolder } from '../locks/holder.js';
import type { Logger } from '../log/logger.js';
import { readHead } from '../maildir/rewrite.js';
import type { Spool } from '../maildir/spool.js';
import { findBlankLine, MAX_HEAD_KEPT } from '../message/head-splitter.js';
import { insertPoint } from '../message/insert-point.js';
import { discarded, type Outcome } from '../outcome/outcome.js';
import { foldField, scanHeaderLines } from '../scanners/scan-headers.js';
import type { Verdict } from '../scanners/types.js';
import type { Script } from '../sieve/ast.js';
import { evaluateSieve, scriptUses } from '../sieve/evaluate.js';
import { scriptReadsParts } from '../sieve/evaluate-mime.js';
import { mailboxDir } from '../sieve/mailbox-name.js';
import { countBareLf, parseHeaderBlock, SieveMessage } from '../sieve/message.js';
import { implicitKeepPlan, type SievePlan } from '../sieve/plan.js';
import { decodeEncodedWords } from '../sieve/rfc2047.js';
import { scanValues } from '../sieve/scan-values.js';
import { localOffset } from '../sieve/evaluate-context.js';
import { currentSite } from '../sieve/site.js';
import { isLive } from '../sieve/state-log.js';
import { readStateLog } from '../sieve/state-store.js';
import { storeTargets, type StoreTarget } from '../sieve/targets.js';
import type { CommitTarget } from '../commit/prepare-folders.js';
import type { NameSource } from '../maildir/name-source.js';
import type { Redirect } from '../sieve/plan.js';
import { buildEditedCopies } from './sieve-edited.js';
import type { Envelope } from './envelope.js';
import { loadIncludes, type IncludeDirs } from './sieve-include-load.js';
import { loadSieveScripts, userScriptPath } from './sieve-load.js';
import { runNotifications } from './sieve-notify.js';
import { runPostActions } from './sieve-post.js';

export interface SieveStageInput {
  spool: Spool;
  maildir: string;
  user: string;
  home: string;
  envelope: Envelope;
  /** Postfix prepended its fields (a From_ line was seen): where mda's own fields were inserted. */
  fromPostfix: boolean;
  verdicts: readonly Verdict[];
  /** `mda deliver --folder`: where keep stores ('' = INBOX). */
  keepFolder: string;
  config: Config;
  deadline: Deadline;
  logger: Logger;
  locks: LockHolder;
  /** Admin scripts must be root's alone (Session.startedAsRoot). */
  startedAsRoot: boolean;
  /** Names for the tmp/ files of copies with an edited header (editheader, RFC 5293). */
  names: NameSource;
}

export interface SieveDecision {
  plan: SievePlan;
  eol: '\n' | '\r\n';
  /** The header block Sieve read (edited copies rewrite it), and whether it is the whole header. */
  header: Buffer;
  headerComplete: boolean;
}

/** The body test reads at most this much of the message (RFC 5173 allows a limit; Pigeonhole has one too). */
const MAX_BODY_BYTES = 1024 * 1024;
const CHUNK = 64 * 1024;

/** sieveStage: a plan, or null when Sieve does not apply (no scripts, a compile error, infected mail). */
export async function sieveStage(i: SieveStageInput): Promise<SieveDecision | null> {
  if (i.verdicts.some((v) => v.status === 'infected')) return null;
  const loaded = await loadSieveScripts(i.config, i.user, i.home, i.deadline, i.logger, { cacheDir: stateDirOf(i), adminRootOnly: i.startedAsRoot });
  if (loaded.kind === 'none') return null;
  if (loaded.kind === 'error') {
    for (const e of loaded.errors.slice(0, 5)) i.logger.warn(`sieve: ${e}`);
    i.logger.warn('sieve: the scripts were not run; the message goes to INBOX');
    return null;
  }
  const { scripts } = loaded;
  const included = await loadIncludes(scripts, includeDirs(i), i.logger, i.deadline);
  // What the stage prepares (size, body, folders, state) is for the included scripts too.
  const used = included ? [...scripts, ...included.scripts] : scripts;
  const head = await i.deadline.race(readHead(i.spool.path, MAX_HEAD_KEPT));
  const end = findBlankLine(head, true);
  const header = end < 0 ? head : head.subarray(0, end);
  const eol = insertPoint(header, i.fromPostfix).eol;
  const size = scriptUses(used, 'size') ? await i.deadline.race(sieveSize(i, header)) : i.spool.bytes;
  const raw = scriptUses(used, 'body') || scriptReadsParts(used) ? await i.deadline.race(readHead(i.spool.path, MAX_HEAD_KEPT + MAX_BODY_BYTES)) : undefined;
  const message = new SieveMessage(parseHeaderBlock(header), size, decodeEncodedWords, raw);
  const env = {
    sender: i.envelope.sender,
    recipient: i.envelope.recipient,
    originalRecipient: i.envelope.originalRecipient,
    scan: scanValues({ verdicts: i.verdicts, scannersConfigured: i.config.scanners.length > 0, trustScanHeaders: i.config.sieve.trustScanHeaders, header: (n) => message.values(n) }),
    mailboxExists: await folderLookup(i, used),
    duplicateSeen: await duplicateLookup(i, used),
    limits: i.config.sieve,
    // RFC 5260 §5: the clock is read here, once, so every currentdate of the run sees one instant
    clock: { nowMs: Date.now(), localOffset },
    site: currentSite(),
    includes: included?.source,
  };
  let plan: SievePlan;
  try {
    plan = evaluateSieve(scripts, message, env);
  } catch (err) {
    // Not a Sieve runtime error: a bug, or a cache file edited by hand. Never defer because of a script.
    i.logger.warn(`sieve: evaluation failed unexpectedly (${(err as Error).message}); implicit keep`);
    await unlink(join(stateDirOf(i), 'sieve-cache.json')).catch(() => undefined);
    for (const f of included?.cacheFiles ?? []) await unlink(f).catch(() => undefined);
    plan = implicitKeepPlan([`internal error: ${(err as Error).message}`]);
  }
  for (const e of plan.errors) i.logger.warn(`sieve: runtime error: ${e}; implicit keep`);
  return { plan, eol, header, headerComplete: end >= 0 || head.length < MAX_HEAD_KEPT };
}

/**
 * deliverWithSieve carries out a plan: its copies through `execute` (the one
 * executor, commit/execute-plan.ts), then redirects and vacation, then the
 * duplicate state. A plan that stores nothing redirects first, and keeps the
 * message after all if any redirect failed rather than lose it.
 */
export async function deliverWithSieve(d: SieveDecision, i: SieveStageInput, execute: (targets: readonly CommitTarget[]) => Promise<Outcome>): Promise<Outcome> {
  const spamFolder = i.verdicts.some((v) => v.status === 'spam') ? i.config.spam.folder : '';
  const { plan } = d;
  let t = storeTargets({ plan, keepFolder: i.keepFolder, spamFolder });
  if (!t.ok) {
    // The evaluator refuses bad names; this is the --folder / [spam] folder, checked earlier: keep in INBOX.
    i.logger.warn(`sieve: ${t.why}; storing in INBOX`);
    t = { ok: true, targets: [{ mailbox: 'INBOX', dir: '', flags: [], create: true }] };
  }
  // RFC 5293 §3: every store and redirect carries the header of its time: one file per distinct header.
  const edited = await buildEditedCopies(
    { spool: i.spool, root: i.maildir, names: i.names, header: d.header, headerComplete: d.headerComplete, eol: d.eol, deadline: i.deadline, logger: i.logger },
    [...t.targets.map((x) => x.header), ...plan.redirects.map((r) => r.header)],
  );
  try {
    const withCopy = (x: StoreTarget): CommitTarget => {
      const spool = edited.spoolFor(x.header);
      return spool ? { ...x, spool } : x;
    };
    const post = {
      messagePath: i.spool.path, eol: d.eol, envelope: i.envelope, user: i.user, home: i.home, stateDir: stateDirOf(i), config: i.config, deadline: i.deadline, logger: i.logger, locks: i.locks,
      redirectPath: (r: Redirect) => edited.spoolFor(r.header)?.path ?? i.spool.path,
    };
    if (t.targets.length === 0) {
      // Nothing to store: redirect first; if any redirect fails, keep the message rather than lose it.
      const sent = await runPostActions({ ...post, plan });
      if (sent.failed.length === 0) {
        await notifyAfterCommit(post, plan);
        return discarded(plan.redirects.length ? `sieve: redirected to ${sent.sent.map((a) => `<${a}>`).join(', ')}` : 'sieve: discarded');
      }
      i.logger.warn('sieve: a redirect failed and no copy was stored: keeping the message');
      const keep = storeTargets({ plan: { ...plan, keep: { flags: [], implicit: false }, fileinto: [] }, keepFolder: i.keepFolder, spamFolder: '' });
      const kept = await execute(keep.ok ? keep.targets : [{ mailbox: 'INBOX', dir: '', flags: [], create: true }]);
      if (kept.kind === 'delivered') await notifyAfterCommit(post, plan);
      return kept;
    }
    const stored = await execute(t.targets.map(withCopy));
    if (stored.kind !== 'delivered') return stored;
    await runPostActions({ ...post, plan }).catch((err: unknown) => i.logger.warn(`sieve: ${(err as Error).message}`));
    await notifyAfterCommit(post, plan);
    return stored;
  } finally {
    await edited.discard();
  }
}

/** enotify (RFC 5435): only once the delivery has committed, so a deferred message never notifies twice. Never throws. */
async function notifyAfterCommit(post: Parameters<typeof runNotifications>[0], plan: SievePlan): Promise<void> {
  await runNotifications(post, plan.notifications).catch((err: unknown) => post.logger.warn(`sieve: notify: ${(err as Error).message}`));
}

/**
 * RFC 5228 §5.9: the size as if every line ended in CRLF, without the fields
 * mda itself inserted (they are recomputed exactly as the scan stage wrote them).
 */
async function sieveSize(i: SieveStageInput, header: Buffer): Promise<number> {
  const eol = insertPoint(header, i.fromPostfix).eol;
  const inserted = i.verdicts.length ? Buffer.from(scanHeaderLines(i.verdicts).map((l) => foldField(l, eol) + eol).join(''), 'utf8') : Buffer.alloc(0);
  let bareLf = 0;
  let prev = -1;
  await withFd(await open(i.spool.path, C.O_RDONLY | C.O_NOFOLLOW), async (fd) => {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; ; ) {
      const n = await read(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      bareLf += countBareLf(buf.subarray(0, n), prev);
      prev = buf[n - 1]!;
      pos += n;
    }
  });
  return i.spool.bytes - inserted.length + bareLf - countBareLf(inserted, 0x0d);
}

/** mailboxexists answers from one listing of the Maildir, read only when a script asks. */
async function folderLookup(i: SieveStageInput, scripts: Script[]): Promise<(name: string) => boolean> {
  if (!scriptUses(scripts, 'mailboxexists')) return () => false;
  const names = new Set(await i.deadline.race(readdirNames(i.maildir)).catch(() => (i.deadline.throwIfAborted(), [] as string[])));
  return (name) => {
    const where = mailboxDir(name);
    return where.ok && (where.dir === '' || names.has(where.dir));
  };
}

/** duplicate answers from the state file, read only when a script asks; an unreadable file means "never seen". */
async function duplicateLookup(i: SieveStageInput, scripts: Script[]): Promise<(key: string) => boolean> {
  if (!scriptUses(scripts, 'duplicate')) return () => false;
  const log = await i.deadline.race(readStateLog(stateDirOf(i), 'duplicate')).catch((err: unknown) => {
    i.deadline.throwIfAborted(); // the deadline is not "never seen"
    i.logger.warn(`sieve: duplicate state unreadable: ${(err as Error).message}`);
    return new Map<string, number>();
  });
  const now = Math.floor(Date.now() / 1000);
  return (key) => isLive(log, key, now);
}

/** include (RFC 6609): [sieve] dir as the user's path, global_dir as it is; '' = none. */
const includeDirs = (i: SieveStageInput): IncludeDirs => ({
  personal: userScriptPath(i.config.sieve.dir, i.user, i.home),
  global: i.config.sieve.globalDir || undefined,
  maxScriptSize: i.config.sieve.maxScriptSize,
  globalRootOnly: i.startedAsRoot,
  cacheDir: stateDirOf(i),
});

const stateDirOf = (i: SieveStageInput): string => userScriptPath(i.config.sieve.stateDir, i.user, i.home) ?? `${i.home}/.mda`;
