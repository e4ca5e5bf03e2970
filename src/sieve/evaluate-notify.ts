/**
 * enotify (RFC 5435) with the mailto method (RFC 5436) in the evaluator: the notify action into
 * the chain's notifications (one per recipient per run, counted with redirects against [sieve]
 * max_redirects), and the valid_notify_method / notify_method_capability tests. Decides whether a
 * notification is due (never for Auto-Submitted mail, RFC 5436 §2.7) and what it says; sending
 * is pipeline/sieve-notify.ts's, after the delivery commits. Pure: no I/O.
 */
import type { CommandNode, TestNode } from './ast.js';
import { hasTag, runtimeError, str, strings, tag, type Ctx } from './evaluate-context.js';
import { parseMailtoUri } from './mailto.js';
import type { Notification } from './plan.js';
import { checkRedirectAddress } from './redirect-rules.js';
import { autoSubmittedToken, normalizeAddress } from './vacation-rules.js';

const IMPORTANCE = ['1', '2', '3'] as const;

export function notify(ctx: Ctx, c: CommandNode): void {
  const { chain } = ctx;
  const method = str(ctx, c.positional[0]);
  const parsed = parseMailtoUri(method);
  // RFC 5435 §3.1: a method that is not a valid, supported URI is an error (a constant one fails to compile).
  if (!parsed.ok) throw runtimeError(ctx, c, `invalid notification method ${JSON.stringify(method.slice(0, 80))}: ${parsed.why}`);
  const uri = parsed.uri;
  const { env, message } = chain;
  // RFC 5436 §2.7: no notification about a message that is itself automatic (anything but "no").
  const auto = message.values('auto-submitted').find((v) => autoSubmittedToken(v) !== 'no');
  if (auto !== undefined) {
    chain.trace.push(`notify ${method}: not sent: the message is Auto-Submitted: ${auto.trim()} (RFC 5436 §2.7)`);
    return;
  }
  if (uri.recipients.length === 0) {
    chain.trace.push(`notify ${method}: the URI names no recipient; nothing to send`);
    return;
  }
  const asked = hasTag(c, 'importance') ? str(ctx, tag(c, 'importance')) : '2';
  const importance = IMPORTANCE.find((i) => i === asked) ?? '2';
  if (importance !== asked) chain.trace.push(`notify: :importance ${JSON.stringify(asked)} is not 1, 2 or 3: using 2 (RFC 5436 §2.4)`);
  // RFC 5436 §2.6: :message is the Subject; without it the URI's subject, else a default.
  const subject = hasTag(c, 'message') ? str(ctx, tag(c, 'message')) : uri.subject ?? defaultSubject(message.decodedValues('subject')[0]);
  const me = ownAddress(env.recipient);
  const from = chooseFrom(hasTag(c, 'from') ? str(ctx, tag(c, 'from')) : undefined, me, [env.recipient, env.originalRecipient]);
  if (from.note) chain.trace.push(`notify: ${from.note}`);
  const base: Omit<Notification, 'recipient'> = {
    // RFC 5436 §2.7: a notification about a message from <> goes out from <> too (no loops of bounces).
    sender: env.sender === '' ? '' : me,
    from: from.value,
    to: uri.to, cc: uri.cc, subject,
    body: uri.body ?? defaultBody(message.decodedValues('from')[0], message.decodedValues('subject')[0]),
    importance, headers: uri.headers,
    ...(from.note ? { note: from.note } : {}),
  };
  if (uri.ignored.length) chain.trace.push(`notify: URI header fields ignored: ${uri.ignored.join(', ')} (RFC 5436 §2.7)`);
  for (const recipient of uri.recipients) {
    const key = recipient.toLowerCase();
    if (chain.notifications.has(key)) {
      chain.trace.push(`notify to <${recipient}>: already notified in this run (RFC 5435 §3, duplicate notifications)`);
      continue;
    }
    if (chain.redirects.size + chain.notifications.size >= env.limits.maxRedirects) {
      throw runtimeError(ctx, c, `too many redirects and notifications: at most ${env.limits.maxRedirects} per message ([sieve] max_redirects)`);
    }
    chain.notifications.set(key, { recipient, ...base });
    chain.trace.push(`notify to <${recipient}> subject ${JSON.stringify(subject)}${importance !== '2' ? ` importance ${importance}` : ''}`);
  }
}

/** RFC 5435 §4: true when every URI is valid for a supported method. */
export function validNotifyMethod(ctx: Ctx, t: TestNode): boolean {
  return strings(ctx, t.positional[0]).every((u) => parseMailtoUri(u).ok);
}

/**
 * RFC 5435 §5 / RFC 5436 §2.2: "online" (case-insensitive) is "maybe" for mailto, since mda cannot
 * know whether a recipient is logged in; an invalid URI or an unknown capability is false.
 */
export function notifyMethodCapability(ctx: Ctx, t: TestNode, match: (values: string[], keys: string[]) => boolean): boolean {
  if (!parseMailtoUri(str(ctx, t.positional[0])).ok) return false;
  if (str(ctx, t.positional[1]).toLowerCase() !== 'online') return false;
  return match(['maybe'], strings(ctx, t.positional[2]));
}

/** The user's own plain address, '' when the recipient is not one (then MAIL FROM is <>). */
function ownAddress(recipient: string): string {
  const a = checkRedirectAddress(recipient);
  return a.ok ? a.address : '';
}

/** `local+detail@domain` → `local@domain`, lower-cased (RFC 5233 §2 subaddresses). */
const withoutDetail = (address: string): string => normalizeAddress(address).replace(/^([^@+]*)\+[^@]*@/, '$1@');

/**
 * RFC 5436 §2.3: :from sets the From field. mda honours it only for the user's own address and its
 * +detail forms (with a display name or without); anything else would let a script send mail in
 * another person's name, so it is ignored (the user's address is used) and noted for the log.
 */
export function chooseFrom(asked: string | undefined, me: string, mine: readonly string[]): { value: string; note?: string } {
  if (asked === undefined || asked.trim() === '') return { value: me };
  const bare = /<([^<>]*)>\s*$/.exec(asked)?.[1] ?? asked;
  const ok = checkRedirectAddress(bare);
  const own = new Set(mine.filter((m) => m !== '').map(withoutDetail));
  if (ok.ok && own.has(withoutDetail(ok.address))) return { value: asked.trim() };
  return { value: me, note: `:from ${JSON.stringify(asked.slice(0, 80))} ignored: only the user's own address (or a +detail form) may be used` };
}

/** Pigeonhole's default subject (ntfy-mailto.c). */
function defaultSubject(original: string | undefined): string {
  return original !== undefined && original.trim() !== '' ? `Notification: ${original.trim()}` : 'Notification: (no subject)';
}

/** Without a body in the URI: a short summary of the triggering message (RFC 5436 §2.7 leaves it to the implementation). */
function defaultBody(from: string | undefined, subject: string | undefined): string {
  return `You have received a new message.\n\nFrom: ${from?.trim() || '(unknown)'}\nSubject: ${subject?.trim() || '(no subject)'}\n`;
}
