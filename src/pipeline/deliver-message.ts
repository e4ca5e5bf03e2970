/**
 * One spooled message to many recipients in one session (the LMTP shape, and
 * the in-process test driver): the message was spooled once; each recipient's
 * copy is materialized from it, a hard link when the bytes, filesystem and
 * owner allow (Dovecot lmtp-local.c does the same), else a copy with that
 * recipient's own prepended fields; then each copy's story runs concurrently
 * (deliver-copy.ts) and every recipient gets its own outcome.
 * Privileges: a recipient is committed with its own uid, gid and groups: those
 * of this process's uid here, any other uid by that uid's worker process
 * (session/uid-workers.ts); never by a process-wide setuid mid-flight.
 * Must not: read input, exit, or change privileges.
 */
import { dirname } from 'node:path';
import { composeSpool } from '../maildir/rewrite.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import { Spool } from '../maildir/spool.js';
import { MAX_HEAD_KEPT } from '../message/head-splitter.js';
import { parseHeaders } from '../message/headers.js';
import { classifyError } from '../outcome/classify.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import type { Account } from '../privileges/accounts.js';
import type { Session } from '../session/session.js';
import { deliverCopy, type DeliveryFacts } from './deliver-copy.js';
import type { Envelope } from './envelope.js';
import { resolveRecipient, type Recipient } from './recipient.js';

/** A message spooled once, sealed, in a directory of the front end's (root/tmp/). */
export interface SpooledMessage {
  spool: Spool;
  /** The header block as stored (without the blank line), capped like HeadSplitter's. */
  header: Buffer;
}

export interface MessageRecipient {
  /** The account or [users.NAME] to deliver to. */
  user: string;
  envelope: Envelope;
  /** Fields for this recipient only (Return-Path, Delivered-To), prepended to its copy. */
  prepend?: Buffer;
  /** Where the implicit keep stores ('' = INBOX). */
  folder?: string;
  /**
   * Who and where, when the front end has already resolved the recipient (LMTP, at RCPT):
   * spares a second account lookup per copy, which may fork getent (NSS) for every recipient
   * of every message. Never sent to a uid worker, which resolves as its own uid.
   */
  resolved?: Recipient;
}

export interface RecipientResult {
  user: string;
  outcome: Outcome;
  facts: DeliveryFacts;
}

/** Hands recipients of another uid to that uid's worker (session/uid-workers.ts). */
export interface UidRunner {
  deliver(s: Session, account: Account, msg: SpooledMessage, rcpts: MessageRecipient[]): Promise<RecipientResult[]>;
}

const isOutcome = (v: object): v is Outcome => 'kind' in v;
const factsOf = (r: MessageRecipient): DeliveryFacts => ({ user: r.user, sender: r.envelope.sender, recipient: r.envelope.recipient });

/** deliverMessage gives every recipient its own outcome, in order; it never throws. */
export async function deliverMessage(s: Session, msg: SpooledMessage, rcpts: readonly MessageRecipient[], workers?: UidRunner): Promise<RecipientResult[]> {
  const results: RecipientResult[] = new Array(rcpts.length);
  const settle = (i: number, outcome: Outcome, facts = factsOf(rcpts[i]!)) => (results[i] = { user: rcpts[i]!.user, outcome, facts });
  try {
    await msg.spool.seal();
    const resolved = await Promise.all(rcpts.map((r) => r.resolved ?? s.deadline.race(resolveRecipient({ user: r.user }, s.config, s.env, s.deadline.signal)).catch((err: unknown) => classifyError(err, 'delivery', s.config.quota))));
    const byUid = new Map<number, { account: Account; idx: number[] }>();
    const here: Promise<unknown>[] = [];
    resolved.forEach((rcpt, i) => {
      if (isOutcome(rcpt)) return settle(i, rcpt);
      if (!rcpt.switchTo) return here.push(deliverTo(s, msg, rcpts[i]!, rcpt).then((r) => (results[i] = r)));
      const group = byUid.get(rcpt.uid) ?? { account: rcpt.switchTo, idx: [] };
      group.idx.push(i);
      byUid.set(rcpt.uid, group);
    });
    const there = [...byUid.values()].map(async ({ account, idx }) => {
      if (!workers) return idx.forEach((i) => settle(i, temp('system', `${rcpts[i]!.user} is uid ${account.uid}: deliveries to other users need a per-uid worker`)));
      const got = await workers.deliver(s, account, msg, idx.map((i) => rcpts[i]!));
      idx.forEach((i, k) => (results[i] = got[k] ?? { user: rcpts[i]!.user, outcome: temp('system', 'worker gave no outcome'), facts: factsOf(rcpts[i]!) }));
    });
    await Promise.all([...here, ...there]);
  } catch (err) {
    rcpts.forEach((_, i) => results[i] ?? settle(i, classifyError(err, 'delivery', s.config.quota)));
  }
  return results;
}

async function deliverTo(s: Session, msg: SpooledMessage, r: MessageRecipient, rcpt: Recipient): Promise<RecipientResult> {
  const facts = factsOf(r);
  try {
    await s.deadline.race(prepareMailbox(rcpt.maildir, '', rcpt.uid));
    const spool = await s.deadline.race(materialize(s, msg, rcpt, r.prepend));
    const header = r.prepend?.length ? Buffer.concat([r.prepend, msg.header]).subarray(0, MAX_HEAD_KEPT) : msg.header;
    facts.size = spool.bytes;
    const outcome = await deliverCopy(s, {
      rcpt, spool, header, fromPostfix: false, fields: parseHeaders(header), envelope: r.envelope, keepFolder: r.folder ?? '', facts,
    });
    // Anything but a stored copy may be a link that no longer works (the Maildir moved): prove it again next time.
    if (outcome.kind !== 'delivered') s.maildirs?.forgetLinks(dirname(msg.spool.path), rcpt.maildir);
    return { user: r.user, outcome, facts };
  } catch (err) {
    s.maildirs?.forgetLinks(dirname(msg.spool.path), rcpt.maildir);
    return { user: r.user, outcome: classifyError(err, 'delivery', s.config.quota), facts };
  }
}

/** materialize: this recipient's copy: the spool itself or a hard link in its tmp/ where possible, else a copy with its prepended fields. */
async function materialize(s: Session, msg: SpooledMessage, rcpt: Recipient, prepend: Buffer | undefined): Promise<Spool> {
  if (!prepend?.length) {
    // A server that linked its spool into this Maildir lately links copies straight from it (maildir-memo.ts).
    const fromDir = dirname(msg.spool.path);
    if (s.maildirs?.linkProven(fromDir, rcpt.maildir)) return Spool.borrow(msg.spool, rcpt.maildir);
    try {
      const linked = await Spool.linkFrom(msg.spool, rcpt.maildir, s.names);
      s.maildirs?.linked(fromDir, rcpt.maildir);
      return linked;
    } catch (err) {
      // Another filesystem (EXDEV) or a link refused (EPERM on some filesystems): copy instead.
      if (!['EXDEV', 'EPERM', 'EMLINK'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  return composeSpool(rcpt.maildir, s.names, msg.spool.path, 0, prepend ?? Buffer.alloc(0));
}
