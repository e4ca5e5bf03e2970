/**
 * A SievePlan → the Maildir folders to store in: the keep target (the requested folder, or [spam]
 * folder for an implicit keep of spam; anything explicit wins), every fileinto, one copy per
 * directory with flags merged, and the `:2,<letters>` Maildir info the flags become (maildir(5)).
 * Pure: no I/O.
 */
import { mailboxDir } from './mailbox-name.js';
import type { HeaderSnapshot } from './header-edits.js';
import type { SievePlan } from './plan.js';

export interface StoreTarget {
  /** The folder as named (for logs): 'INBOX', 'Junk', ... */
  mailbox: string;
  /** The directory relative to the Maildir ('' = the Maildir itself). */
  dir: string;
  flags: string[];
  /** May be created when missing (:create, or the keep target, which is always created). */
  create: boolean;
  /** editheader (RFC 5293 §3): the header this copy stores; absent = the message as it came. */
  header?: HeaderSnapshot;
}

export interface TargetInput {
  plan: SievePlan;
  /** Where keep stores: the folder `mda deliver --folder` named, '' for INBOX. */
  keepFolder: string;
  /** The [spam] folder when the message is spam ('' = none): the target of an implicit keep. */
  spamFolder: string;
}

export type TargetResult = { ok: true; targets: StoreTarget[] } | { ok: false; why: string };

/** storeTargets lists the copies to store; a folder that cannot be a Maildir++ folder is refused. */
export function storeTargets(i: TargetInput): TargetResult {
  const wanted: StoreTarget[] = [];
  const { keep } = i.plan;
  if (keep) {
    const folder = keep.implicit && i.spamFolder ? i.spamFolder : i.keepFolder;
    wanted.push({ mailbox: folder || 'INBOX', dir: '', flags: keep.flags, create: true, ...(keep.header && { header: keep.header }) });
  }
  for (const f of i.plan.fileinto) wanted.push({ mailbox: f.mailbox, dir: '', flags: f.flags, create: f.create, ...(f.header && { header: f.header }) });
  const byDir = new Map<string, StoreTarget>();
  for (const t of wanted) {
    const where = mailboxDir(t.mailbox);
    if (!where.ok) return { ok: false, why: `folder ${JSON.stringify(t.mailbox)}: ${where.why}` };
    const seen = byDir.get(where.dir);
    if (seen) {
      seen.flags = [...new Set([...seen.flags, ...t.flags])];
      seen.create ||= t.create;
    } else byDir.set(where.dir, { ...t, dir: where.dir, flags: [...t.flags] });
  }
  return { ok: true, targets: [...byDir.values()] };
}

/** IMAP system flags with a Maildir info letter (maildir(5), Dovecot maildir-util). */
const LETTERS: Record<string, string> = { '\\draft': 'D', '\\flagged': 'F', '\\answered': 'R', '\\seen': 'S', '\\deleted': 'T' };

/**
 * maildirInfo: the letters of the flags, sorted in ASCII order as maildir(5)
 * requires, and the flags that have no letter (keywords, \Recent).
 */
export function maildirInfo(flags: readonly string[]): { letters: string; dropped: string[] } {
  const letters = new Set<string>();
  const dropped: string[] = [];
  for (const f of flags) {
    const l = LETTERS[f.toLowerCase()];
    if (l) letters.add(l);
    else dropped.push(f);
  }
  return { letters: [...letters].sort().join(''), dropped };
}

/** The file name and subdirectory of a stored copy: new/ without letters, cur/ with `:2,<letters>`. */
export function storedName(base: string, letters: string): { sub: 'new' | 'cur'; name: string } {
  return letters ? { sub: 'cur', name: `${base}:2,${letters}` } : { sub: 'new', name: base };
}
