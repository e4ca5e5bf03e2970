/**
 * One spooled message to many recipients in one session (the LMTP shape, and
 * the in-process test driver): the message was spooled once; each recipient's
 * copy is materialized from it, a hard link when the bytes, filesystem and
 * owner allow (Dovecot lmtp-local.c does the same), else a copy with that
 * recipient's own prepended fields; then each copy's story runs concurrently
 * (deliver-copy.ts) and every recipient gets its own outcome.
 * Privileges: recipients are committed with this process's uid; one of another
 * uid is refused (a root front end hands such work to a per-uid worker).
 * Must not: read input, exit, or change privileges.
 */
import { composeSpool } from '../maildir/rewrite.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import { Spool } from '../maildir/spool.js';
import { MAX_HEAD_KEPT } from '../message/head-splitter.js';
import { parseHeaders } from '../message/headers.js';
import { classifyError } from '../outcome/classify.js';
import { temp, type Outcome } from '../outcome/outcome.js';
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
}

export interface RecipientResult {
  user: string;
  outcome: Outcome;
  facts: DeliveryFacts;
}

const isOutcome = (v: object): v is Outcome => 'kind' in v;

/** deliverMessage gives every recipient its own outcome; it never throws. */
export async function deliverMessage(s: Session, msg: SpooledMessage, rcpts: readonly MessageRecipient[]): Promise<RecipientResult[]> {
  await msg.spool.seal();
  return Promise.all(rcpts.map(async (r) => {
    const facts: DeliveryFacts = { user: r.user, sender: r.envelope.sender, recipient: r.envelope.recipient };
    try {
      return { user: r.user, outcome: await deliverTo(s, msg, r, facts), facts };
    } catch (err) {
      return { user: r.user, outcome: classifyError(err), facts };
    }
  }));
}

async function deliverTo(s: Session, msg: SpooledMessage, r: MessageRecipient, facts: DeliveryFacts): Promise<Outcome> {
  const { deadline } = s;
  const rcpt = await deadline.race(resolveRecipient({ user: r.user }, s.config, s.env, deadline.signal));
  if (isOutcome(rcpt)) return rcpt;
  if (rcpt.switchTo) return temp('system', `${r.user} is uid ${rcpt.uid}: deliveries to other users need a per-uid worker`);
  await deadline.race(prepareMailbox(rcpt.maildir, '', rcpt.uid));
  const spool = await deadline.race(materialize(s, msg, rcpt, r.prepend));
  const header = r.prepend?.length ? Buffer.concat([r.prepend, msg.header]).subarray(0, MAX_HEAD_KEPT) : msg.header;
  facts.size = spool.bytes;
  return deliverCopy(s, {
    rcpt, spool, header, fromPostfix: false, fields: parseHeaders(header), envelope: r.envelope, keepFolder: r.folder ?? '', facts,
  });
}

/** materialize: this recipient's copy in its own tmp/: a hard link where possible, else a copy with its prepended fields. */
async function materialize(s: Session, msg: SpooledMessage, rcpt: Recipient, prepend: Buffer | undefined): Promise<Spool> {
  if (!prepend?.length) {
    try {
      return await Spool.linkFrom(msg.spool, rcpt.maildir, s.names);
    } catch (err) {
      // Another filesystem (EXDEV) or a link refused (EPERM on some filesystems): copy instead.
      if (!['EXDEV', 'EPERM', 'EMLINK'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  return composeSpool(rcpt.maildir, s.names, msg.spool.path, 0, prepend ?? Buffer.alloc(0));
}
