/**
 * Builds the bytes of one enotify mailto notification (RFC 5436 §2): From (the user, or an allowed
 * :from), To/Cc as the URI named them, Subject, `Auto-Submitted: auto-notified` (RFC 5436 §2.7,
 * RFC 3834 §5), the importance as Importance/X-Priority (RFC 5436 §2.4), the URI's safe fields,
 * a UTF-8 text body, CRLF line ends. Nothing can add a header line: values are made one line.
 * Whether to send is evaluate-notify.ts's. Pure: time and ids come in.
 */
import type { Notification } from './plan.js';
import { encodeWord, mailbox, oneLine, rfc5322Date, type ReplyContext } from './vacation-reply.js';

const CRLF = '\r\n';
/** Pigeonhole's NTFY_MAILTO_MAX_SUBJECT. */
const MAX_SUBJECT = 256;
const MAX_FIELD = 900;
const IMPORTANCE: Record<Notification['importance'], string[]> = {
  '1': ['Importance: High', 'X-Priority: 1 (Highest)'],
  '2': [],
  '3': ['Importance: Low', 'X-Priority: 5 (Lowest)'],
};
/** How the URI's safe fields are written (their lower-case names come from mailto.ts's allowlist). */
const FIELD_NAMES: Record<string, string> = {
  keywords: 'Keywords', comments: 'Comments', 'reply-to': 'Reply-To', 'in-reply-to': 'In-Reply-To', references: 'References',
};

const addressList = (list: readonly string[]): string => list.map((a) => `<${oneLine(a)}>`).join(', ');

export function buildNotification(n: Notification, ctx: ReplyContext): Buffer {
  const subject = [...oneLine(n.subject)].slice(0, MAX_SUBJECT).join('');
  const lines = [`Message-ID: ${ctx.messageId}`, `Date: ${rfc5322Date(ctx.now)}`, `From: ${mailbox(n.from)}`];
  if (n.to.length) lines.push(`To: ${addressList(n.to)}`);
  if (n.cc.length) lines.push(`Cc: ${addressList(n.cc)}`);
  lines.push(`Subject: ${encodeWord(subject)}`);
  for (const [name, value] of n.headers) {
    const field = FIELD_NAMES[name];
    if (field) lines.push(`${field}: ${encodeWord([...oneLine(value)].slice(0, MAX_FIELD).join(''))}`);
  }
  lines.push(...IMPORTANCE[n.importance]);
  lines.push('Auto-Submitted: auto-notified', 'Precedence: bulk', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  // A lone "." line is content: sendmail runs with -i. Bare CR or LF become CRLF.
  const body = n.body.replace(/\r\n|\r|\n/g, CRLF);
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + body + (body.endsWith(CRLF) ? '' : CRLF), 'utf8');
}
