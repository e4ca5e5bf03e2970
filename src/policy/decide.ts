/**
 * The policy service's decision, in pure steps the service (service.ts) runs in order:
 * screenRequest (is this a request mda may judge at all?), then, after the shared RCPT
 * resolver (src/recipients/resolve.ts), fromResolution, then, after the quota read,
 * fromQuota; actionLine writes the one `action=` line. Anything mda cannot be sure of
 * is DUNNO: Postfix then goes on with its other restrictions, and mda still enforces
 * everything at delivery. Codes are fixed (the recipients' reply table), texts are the
 * admin's. Pure: no I/O.
 */
import { parseRecipientAddress } from '../recipients/address.js';
import type { QuotaTarget, RcptQuotaVerdict } from '../recipients/quota-verdict.js';
import { rcptReply, type RcptReply } from '../recipients/rcpt-reply.js';
import type { RcptResolution } from '../recipients/resolve.js';
import type { AliasNames } from './aliases.js';
import type { PolicyRequest } from './request.js';

export type Decision =
  /** `trouble`: DUNNO because of mda's own problem (logged, rate-limited), not because the mail is fine. */
  | { verdict: 'dunno'; why: string; trouble?: string }
  | { verdict: 'refuse'; why: string; reply: RcptReply };

export type Screened = { kind: 'answer'; decision: Decision } | { kind: 'judge'; address: string };

export interface PolicyScope {
  /** `[delivery] domains`, normalized; empty = every domain is mda's. */
  domains: ReadonlySet<string>;
  /** `[delivery] recipient_delimiter`. */
  delimiters: string;
}

const dunno = (why: string, trouble?: string): Decision => (trouble === undefined ? { verdict: 'dunno', why } : { verdict: 'dunno', why, trouble });

/**
 * screenRequest: only an RCPT-stage smtpd request for a recipient in a domain of mda's,
 * whose local part no alias file names, is judged. Everything else is DUNNO: smtpd asks
 * before alias and virtual expansion, so a name mda does not know may still be delivered.
 */
export function screenRequest(req: PolicyRequest, scope: PolicyScope, aliases: AliasNames): Screened {
  const answer = (why: string, trouble?: string): Screened => ({ kind: 'answer', decision: dunno(why, trouble) });
  if (req.request !== 'smtpd_access_policy') return answer(`request=${req.request || '(none)'} is not an SMTP access policy request`);
  // At DATA or END-OF-MESSAGE, recipient is only the last one (or empty): the judgement was made at RCPT.
  if (req.protocolState !== 'RCPT') return answer(`protocol_state=${req.protocolState || '(none)'}: only RCPT is judged`);
  if (req.recipient === '') return answer('no recipient');
  const addr = parseRecipientAddress(req.recipient, scope.delimiters);
  if (typeof addr === 'string') return answer(`recipient not judged: ${addr}`);
  // A bare <postmaster> (RFC 5321 §4.1.1.3) is Postfix's to resolve with its own domain.
  if (addr.domain === '') return answer('recipient without a domain');
  if (scope.domains.size > 0 && !scope.domains.has(addr.domain)) return answer(`${addr.domain} is not in [delivery] domains`);
  // RFC 5321 §4.5.1: a server MUST accept postmaster, and Postfix resolves it through aliases.
  if (addr.base === 'postmaster') return answer('postmaster is always accepted (RFC 5321 §4.5.1)');
  if (aliases.trouble !== undefined) return answer('alias files not readable', `alias files: ${aliases.trouble}`);
  // local(8) looks up user+ext, then user: either being an alias takes the address out of mda's hands.
  if (aliases.names.has(addr.folded) || aliases.names.has(addr.base)) return answer(`${addr.base} is an alias`);
  return { kind: 'judge', address: req.recipient };
}

/** fromResolution: unknown is refused; a resolver that cannot tell is mda's trouble; a user needs the quota check. */
export function fromResolution(r: RcptResolution): Decision | { kind: 'quota'; target: QuotaTarget } {
  if (r.kind === 'unknown') return { verdict: 'refuse', why: r.why, reply: rcptReply('unknown') };
  if (r.kind === 'temp') return dunno('cannot tell who the recipient is', `recipient lookup: ${r.why}`);
  return { kind: 'quota', target: { user: r.user, maildir: r.maildir, uid: r.uid, ...(r.mbox && { mbox: { inbox: r.mbox.inbox } }) } };
}

/** fromQuota: over quota is refused with [quota] over_quota's reply; a quota file not read (maildirsize, mbox) is mda's trouble. */
export function fromQuota(v: RcptQuotaVerdict): Decision {
  if (v.verdict === 'over') return { verdict: 'refuse', why: v.detail, reply: v.reply };
  if (v.unread) return dunno('quota unknown', `quota check: ${v.why}`);
  return dunno(v.why);
}

export interface PolicyTexts {
  unknownText: string;
  overQuotaText: string;
}

/**
 * actionLine: `action=DUNNO`, or the reply with a fixed code and DSN and the admin's text.
 * A numeric reply, not REJECT: Postfix would send 554 for a bare REJECT, and prepends
 * `<addr>: Recipient address rejected:` to the text itself.
 */
export function actionLine(d: Decision, texts: PolicyTexts): string {
  if (d.verdict === 'dunno') return 'action=DUNNO';
  const text = d.reply.dsn === '5.1.1' ? texts.unknownText : texts.overQuotaText;
  return `action=${d.reply.code} ${d.reply.dsn} ${text}`;
}
