/**
 * `mda deliver`'s story, top to bottom: recipient → privileges → mailbox →
 * spool (stdin → the recipient's tmp/, the one copy) → envelope → the copy's
 * own story (deliver-copy.ts: early checks → scanners → plan → commit →
 * outcome). Each step yields a value or ends the delivery with an Outcome; all
 * policy lives in named modules. Every thrown error becomes a temporary
 * outcome here, never an exit 1.
 * Must not: exit or print (cli/deliver.ts reports).
 */
import { prepareMailbox } from '../maildir/mailbox.js';
import { Spool } from '../maildir/spool.js';
import { firstValue, parseHeaders } from '../message/headers.js';
import { classifyError, errnoOf } from '../outcome/classify.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { switchToAccount } from '../privileges/switch-user.js';
import type { Session } from '../session/session.js';
import { mailboxDir } from '../sieve/mailbox-name.js';
import { deliverCopy, type DeliveryFacts } from './deliver-copy.js';
import { buildEnvelope } from './envelope.js';
import { resolveRecipient } from './recipient.js';
import { spoolStdin } from './spool-stdin.js';

export type { DeliveryFacts } from './deliver-copy.js';

export interface DeliveryArgs {
  user?: string;
  maildir?: string;
  /** --mbox: the inbox is this mbox file. */
  mbox?: string;
  folder?: string;
  sender?: string;
  recipient?: string;
}

const isOutcome = (v: object): v is Outcome => 'kind' in v;

export async function runDelivery(s: Session, args: DeliveryArgs, stdin: AsyncIterable<Buffer | string>, facts: DeliveryFacts): Promise<Outcome> {
  const { config, deadline } = s;
  try {
    const rcpt = await deadline.race(resolveRecipient(args, config, s.env, deadline.signal));
    if (isOutcome(rcpt)) return rcpt;
    facts.user = rcpt.user;
    // This process serves this one recipient: become it before any path of theirs is touched.
    if (rcpt.switchTo) switchToAccount(rcpt.switchTo);

    const folder = mailboxDir(args.folder ?? '');
    if (!folder.ok) return temp('usage', `refusing folder ${JSON.stringify(args.folder)}: ${folder.why}`);
    facts.folder = args.folder ?? '';
    try {
      await deadline.race(prepareMailbox(rcpt.maildir, '', rcpt.uid));
    } catch (err) {
      // For an mbox inbox this "Maildir" is only the spool in the state directory: say so, or the
      // admin looks at the mbox for a cause that lies in [sieve] state_dir (e.g. a home that is /nonexistent).
      const code = errnoOf(err);
      if (rcpt.mbox && code) return temp('mailbox-unavailable', `the mbox spool ${rcpt.maildir} cannot be made (${code}): set [sieve] state_dir to a directory the user can write`);
      throw err;
    }

    const spool = await deadline.race(Spool.create(rcpt.maildir, s.names));
    let head;
    try {
      head = await spoolStdin(stdin, spool, config.delivery.maxMessageSize, deadline);
    } catch (err) {
      await spool.discard();
      throw err;
    }
    facts.size = spool.bytes;
    if (isOutcome(head)) return (await spool.discard(), head);

    const fields = parseHeaders(head.header);
    const envelope = buildEnvelope(args, head.fromLine, fields, s.env);
    Object.assign(facts, { sender: envelope.sender, recipient: envelope.recipient, messageId: firstValue(fields, 'message-id') });
    return await deliverCopy(s, {
      rcpt, spool, header: head.header, fromPostfix: head.fromLine !== undefined, fields, envelope, keepFolder: args.folder ?? '', facts,
    });
  } catch (err) {
    return classifyError(err, 'delivery', { overQuota: config.quota.overQuota });
  }
}
