/**
 * When a vacation auto-reply may be sent, and for how long it is remembered:
 * RFC 3834 §2 (never to <>, not to auto-submitted mail, only when addressed
 * to the user), RFC 5230 §4.1/§4.5/§4.6, RFC 6131 (:seconds), with
 * Pigeonhole's (cmd-vacation.c) list, Precedence and X-Auto-Response-Suppress
 * rules. The reply message itself is vacation-reply.ts's. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { checkRedirectAddress } from './redirect-rules.js';
import { isLive, MAX_VACATION_ENTRIES, type StateLog } from './state-log.js';

const DAY = 86_400;
/** RFC 5230 §4.1: `:days` defaults to 7. */
export const DEFAULT_VACATION_DAYS = 7;

export interface VacationCheckInput {
  /** Envelope sender ('' = null sender). */
  sender: string;
  /** Final and original envelope recipient. */
  recipient: string;
  originalRecipient: string;
  /** :addresses (RFC 5230 §4.5), the user's other addresses. */
  addresses: readonly string[];
  /** All values of a header field (name lower-case), unfolded. */
  header: (name: string) => string[];
}

/** `to`: the one address the reply goes to (the envelope sender, checked as a redirect address is). */
export type VacationCheck = { reply: true; from: string; to: string } | { reply: false; why: string };

/** RFC 2369 / RFC 2919 list fields: mail carrying any of them came through a list (RFC 5230 §4.6). */
const LIST_FIELDS = ['list-id', 'list-help', 'list-subscribe', 'list-unsubscribe', 'list-post', 'list-owner', 'list-archive'];
/** RFC 3834 §2 / RFC 5230 §4.5: the user must be named in one of these for a personal reply. */
const ADDRESSED_FIELDS = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'];

/** The lower-cased address for comparisons (RFC 5321 local parts are case-sensitive in theory, never in practice). */
export const normalizeAddress = (a: string): string => a.trim().replace(/^<|>$/g, '').toLowerCase();

/**
 * isSystemAddress: RFC 5230 §4.6's never-reply list (and Pigeonhole's):
 * MAILER-DAEMON, LISTSERV, majordomo, owner-*, *-request, on the local part.
 */
export function isSystemAddress(address: string): boolean {
  const a = normalizeAddress(address);
  const at = a.lastIndexOf('@');
  const local = at >= 0 ? a.slice(0, at) : a;
  return (
    local === 'mailer-daemon' || local === 'listserv' || local === 'majordomo' ||
    local.startsWith('owner-') || local.endsWith('-request')
  );
}

/**
 * headerAddresses extracts the addr-specs of an address-list header value
 * (RFC 5322 §3.4): comments and quoted display names are dropped first, so
 * `"me@example.org" <other@example.net>` yields only other@example.net.
 */
export function headerAddresses(value: string): string[] {
  let text = value.replace(/"(?:[^"\\]|\\.)*"/g, ' ');
  // Comments nest (RFC 5322 §3.2.2); strip innermost first, boundedly.
  for (let i = 0; i < 8 && /\([^()]*\)/.test(text); i++) text = text.replace(/\([^()]*\)/g, ' ');
  const out: string[] = [];
  for (const m of text.matchAll(/<([^<>\s]*@[^<>\s]*)>|([^\s<>,:;]+@[^\s<>,:;]+)/g)) {
    out.push(normalizeAddress(m[1] ?? m[2]!));
  }
  return out;
}

/** checkVacation decides whether a reply is due (the sent-log check is the caller's, after delivery). */
export function checkVacation(i: VacationCheckInput): VacationCheck {
  const sender = normalizeAddress(i.sender);
  if (sender === '') return { reply: false, why: 'the envelope sender is <> (RFC 3834 §2)' };
  // The reply goes to this one address only: a list (`a@b, c@d`, which Postfix's sendmail would split into
  // recipients), a quoted local part, a display name or an option-like `-x` is refused, not repaired.
  // No reply is always safe; a reply to a wrong or second address is backscatter.
  const to = checkRedirectAddress(i.sender);
  if (!to.ok) return { reply: false, why: `the envelope sender is not one plain address (${to.why})` };
  const recipient = normalizeAddress(i.recipient);
  if (recipient === '') return { reply: false, why: 'the envelope recipient is unknown' };
  const mine = [recipient, normalizeAddress(i.originalRecipient), ...i.addresses.map(normalizeAddress)].filter((a) => a !== '');
  if (mine.includes(sender)) return { reply: false, why: `<${sender}> is the user's own address` };
  const list = LIST_FIELDS.find((f) => i.header(f).length > 0);
  if (list) return { reply: false, why: `the message came through a mailing list (${list})` };
  const auto = i.header('auto-submitted').find((v) => autoSubmittedToken(v) !== 'no');
  if (auto !== undefined) return { reply: false, why: `the message is Auto-Submitted: ${auto} (RFC 3834 §2)` };
  const prec = i.header('precedence').find((v) => ['bulk', 'list', 'junk'].includes(v.trim().toLowerCase()));
  if (prec !== undefined) return { reply: false, why: `the message has Precedence: ${prec.trim()}` };
  const suppress = i.header('x-auto-response-suppress').flatMap((v) => v.split(',')).map((f) => f.trim().toLowerCase());
  if (suppress.includes('all') || suppress.includes('oof')) return { reply: false, why: 'X-Auto-Response-Suppress asks for no out-of-office reply' };
  if (isSystemAddress(sender)) return { reply: false, why: `<${sender}> is a system or list address (RFC 5230 §4.6)` };
  for (const field of ADDRESSED_FIELDS) {
    const named = new Set(i.header(field).flatMap(headerAddresses));
    const from = mine.find((a) => named.has(a));
    if (from !== undefined) return { reply: true, from, to: to.address };
  }
  return { reply: false, why: 'none of the user\'s addresses is in To, Cc, Bcc or Resent-* (RFC 5230 §4.5)' };
}

/** The Auto-Submitted keyword without comments or parameters (`auto-replied (vacation)` → `auto-replied`). */
export function autoSubmittedToken(value: string): string {
  return value.replace(/\([^)]*\)/g, ' ').split(';')[0]!.trim().toLowerCase();
}

export interface PeriodLimits {
  vacationMinDays: number;
  vacationMaxDays: number;
}

/**
 * vacationPeriodSeconds: `:days` (default 7) or `:seconds` (RFC 6131),
 * clamped to the site's [min, max] (RFC 5230 §4.1 "out-of-range values are
 * clamped"; Pigeonhole clamps :seconds the same way). 0 means "reply every time".
 */
export function vacationPeriodSeconds(p: { days?: number; seconds?: number }, limits: PeriodLimits): number {
  const asked = p.seconds ?? (p.days ?? DEFAULT_VACATION_DAYS) * DAY;
  return Math.min(Math.max(asked, limits.vacationMinDays * DAY), limits.vacationMaxDays * DAY);
}

/**
 * defaultHandle: RFC 5230 §4.2: without :handle, replies that differ in
 * :subject, :from, :mime or the reason are distinct responses.
 */
export function defaultHandle(r: { subject: string | undefined; from: string | undefined; mime: boolean; reason: string }): string {
  return 'auto:' + createHash('sha256').update(JSON.stringify([r.subject ?? null, r.from ?? null, r.mime, r.reason])).digest('hex').slice(0, 32);
}

/** The sent-log key: one per (sender, response) pair, as Pigeonhole's md5(lower(sender) + handle). */
export function vacationKey(sender: string, handle: string): string {
  return createHash('sha256').update(`${normalizeAddress(sender)}\0${handle}`).digest('hex').slice(0, 40);
}

export type VacationDue = 'due' | 'already-sent' | 'state-full';

/**
 * vacationDue: the once-per-period rule against the sent-log (RFC 5230 §4.2).
 * A full log means no reply: answering would need room that only forgetting
 * someone still inside their period could make, and a second reply is the
 * backscatter vacation must never send; silence is always safe.
 */
export function vacationDue(log: StateLog, key: string, nowSec: number, max = MAX_VACATION_ENTRIES): VacationDue {
  if (isLive(log, key, nowSec)) return 'already-sent';
  let live = 0;
  for (const exp of log.values()) if (exp > nowSec) live++;
  return live >= max ? 'state-full' : 'due';
}

/** The reply's Subject (RFC 3834 §3.1.5): :subject, else `Auto: ` + the original, else a fixed text. */
export function replySubject(explicit: string | undefined, original: string | undefined): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (original !== undefined && original.trim() !== '') return `Auto: ${original.trim()}`;
  return 'Automated reply';
}
