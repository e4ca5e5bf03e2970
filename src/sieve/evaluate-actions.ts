/**
 * Runs Sieve action commands into the chain state: keep, discard, redirect,
 * fileinto (RFC 5228 §4, :copy RFC 3894, :create RFC 5490, :flags RFC 5232),
 * vacation (RFC 5230, RFC 6131), the flag commands (RFC 5232 §3) and set
 * (RFC 5229 §4). Nothing is executed here: the plan is. Anything an action
 * cannot do is a runtime error (RFC 5228 §2.10.6). Pure.
 */
import type { Arg, CommandNode } from './ast.js';
import { editHeader } from './evaluate-editheader.js';
import { flagList, hasTag, num, runtimeError, str, strings, tag, type Ctx } from './evaluate-context.js';
import { canonicalMailbox, mailboxDir } from './mailbox-name.js';
import { checkRedirectAddress, isRedirectLoop, redirectAddress, REDIRECT_FIELD } from './redirect-rules.js';
import { checkVacation, defaultHandle, replySubject, vacationPeriodSeconds } from './vacation-rules.js';
import { notify } from './evaluate-notify.js';
import { applyModifiers } from './variables.js';
import { runErrorCommand } from './evaluate-environment.js';

export const MODIFIERS = ['lower', 'upper', 'lowerfirst', 'upperfirst', 'quotewildcard', 'quoteregex', 'length', 'encodeurl'];

export function runAction(ctx: Ctx, c: CommandNode): void {
  switch (c.name) {
    case 'keep':
      return keep(ctx, c);
    case 'discard':
      ctx.s.implicitKeep = false;
      ctx.chain.trace.push('discard');
      return;
    case 'fileinto':
      return fileinto(ctx, c);
    case 'redirect':
      return redirect(ctx, c);
    case 'vacation':
      return vacation(ctx, c);
    case 'setflag':
    case 'addflag':
    case 'removeflag':
      return flags(ctx, c);
    case 'set': {
      const name = str(ctx, c.positional[0]);
      const value = applyModifiers(str(ctx, c.positional[1]), MODIFIERS.filter((m) => hasTag(c, m)));
      ctx.s.vars?.set(name, value);
      return;
    }
    case 'notify':
      return notify(ctx, c);
    case 'error': // RFC 5463 §5
      return runErrorCommand(ctx, c);
    case 'addheader':
    case 'deleteheader':
      return editHeader(ctx, c);
    default:
      throw runtimeError(ctx, c, 'unknown command');
  }
}

/** :flags given, else the internal variable (RFC 5232 §5). */
function flagsFor(ctx: Ctx, c: CommandNode): string[] {
  return hasTag(c, 'flags') ? flagList(strings(ctx, tag(c, 'flags'))) : [...ctx.s.flags];
}

/**
 * keep: stores into INBOX, so a second keep, or a fileinto "INBOX", is the same store
 * (RFC 5228 §2.10.3) and the flags of the last one win (RFC 5232 §3, as Pigeonhole):
 * both records are set to them, which buildPlan then merges into one copy.
 */
function keep(ctx: Ctx, c: CommandNode): void {
  const f = flagsFor(ctx, c);
  if (ctx.s.explicitKeep === null && ctx.chain.header) ctx.s.keepHeader = ctx.chain.header; // RFC 5293 §3
  ctx.s.explicitKeep = f;
  const inbox = ctx.chain.fileinto.get('INBOX');
  if (inbox) inbox.flags = [...f];
  ctx.s.implicitKeep = false; // RFC 5228 §4.3: keep replaces the implicit keep
  ctx.chain.trace.push(`keep${f.length ? ` flags ${f.join(' ')}` : ''}`);
}

/**
 * fileinto: a folder name that could not be stored is a runtime error; two
 * fileintos into one folder are one copy (RFC 5228 §2.10.3) carrying the flags
 * of the last one (RFC 5232 §3: each store sets the message's flags; Pigeonhole
 * does the same), and a fileinto "INBOX" after a keep sets the keep's flags.
 */
function fileinto(ctx: Ctx, c: CommandNode): void {
  const mailbox = str(ctx, c.positional[0]);
  const where = mailboxDir(mailbox);
  if (!where.ok) throw runtimeError(ctx, c, `cannot file into ${JSON.stringify(mailbox)}: ${where.why}`);
  const f = flagsFor(ctx, c);
  const key = canonicalMailbox(mailbox);
  const seen = ctx.chain.fileinto.get(key);
  if (seen) {
    seen.flags = f;
    seen.create ||= hasTag(c, 'create');
  } else ctx.chain.fileinto.set(key, { mailbox: key, flags: f, create: hasTag(c, 'create'), ...(ctx.chain.header && { header: ctx.chain.header }) });
  if (key === 'INBOX' && ctx.s.explicitKeep !== null) ctx.s.explicitKeep = [...f];
  if (!hasTag(c, 'copy')) ctx.s.implicitKeep = false;
  ctx.chain.trace.push(`fileinto ${JSON.stringify(mailbox)}${hasTag(c, 'copy') ? ' :copy' : ''}${f.length ? ` flags ${f.join(' ')}` : ''}`);
}

/**
 * redirect: one address (a display name allowed, redirect-rules.ts); the same address twice,
 * compared after parsing, is one redirect (RFC 5228 §2.10.3); more than [sieve] max_redirects is a runtime error.
 * A message that already went through this recipient's redirect is kept
 * instead (loop control, RFC 5228 §4.2).
 */
function redirect(ctx: Ctx, c: CommandNode): void {
  const { chain } = ctx;
  const raw = str(ctx, c.positional[0]);
  const addr = redirectAddress(raw);
  if (!addr.ok) throw runtimeError(ctx, c, `invalid address: ${addr.why}`);
  if (isRedirectLoop(chain.message.values(REDIRECT_FIELD), chain.env.recipient)) {
    chain.trace.push(`redirect to <${addr.address}> skipped: the message was already redirected by <${chain.env.recipient}> (loop); kept instead`);
    ctx.s.explicitKeep ??= [];
    return;
  }
  const key = addr.address.toLowerCase();
  if (!chain.redirects.has(key)) {
    if (chain.redirects.size + chain.notifications.size >= chain.env.limits.maxRedirects) {
      throw runtimeError(ctx, c, `too many redirects: at most ${chain.env.limits.maxRedirects} per message ([sieve] max_redirects; enotify notifications count too)`);
    }
    chain.redirects.set(key, addr.address);
    if (chain.header) (chain.redirectHeaders ??= new Map()).set(key, chain.header); // RFC 5293 §3
  }
  if (!hasTag(c, 'copy')) ctx.s.implicitKeep = false;
  chain.trace.push(`redirect to <${addr.address}>${hasTag(c, 'copy') ? ' :copy' : ''}`);
}

/**
 * vacation (RFC 5230): at most one per script (§4.7, a second is a runtime
 * error as in Pigeonhole; a later script's is ignored). Whether to answer at
 * all is vacation-rules.ts's; the once-per-period check happens after delivery.
 */
function vacation(ctx: Ctx, c: CommandNode): void {
  const { chain } = ctx;
  const source = ctx.s.script.source;
  if (chain.vacationIn.has(source)) throw runtimeError(ctx, c, 'only one vacation action per script (RFC 5230 §4.7)');
  chain.vacationIn.add(source);
  if (chain.vacation) {
    chain.trace.push(`vacation ignored: ${chain.vacation.source} already answers this message`);
    return;
  }
  const from = hasTag(c, 'from') ? str(ctx, tag(c, 'from')) : undefined;
  if (from !== undefined && from !== '') {
    const bare = /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from;
    const ok = checkRedirectAddress(bare);
    if (!ok.ok) throw runtimeError(ctx, c, `invalid :from address: ${ok.why}`);
  }
  const subject = hasTag(c, 'subject') ? str(ctx, tag(c, 'subject')) : undefined;
  const reason = str(ctx, c.positional[0]);
  const mime = hasTag(c, 'mime');
  const addresses = strings(ctx, tag(c, 'addresses'));
  const { message, env } = chain;
  const check = checkVacation({
    sender: env.sender, recipient: env.recipient, originalRecipient: env.originalRecipient, addresses, header: (n) => message.values(n),
  });
  if (!check.reply) {
    chain.trace.push(`vacation: no reply: ${check.why}`);
    return;
  }
  const periodSeconds = vacationPeriodSeconds({ days: num(tag(c, 'days')), seconds: num(tag(c, 'seconds')) }, env.limits);
  // RFC 5230 §4.2: the default handle comes from the arguments as written, before variables are
  // expanded, so `:subject "Re: ${subject}"` is one response whatever the subject of each message.
  const handle = hasTag(c, 'handle')
    ? str(ctx, tag(c, 'handle'))
    : defaultHandle({ subject: unexpanded(tag(c, 'subject')), from: unexpanded(tag(c, 'from')), mime, reason: unexpanded(c.positional[0]) ?? '' });
  chain.vacation = {
    source,
    reply: {
      to: check.to,
      from: from !== undefined && from !== '' ? from : check.from,
      subject: replySubject(subject, message.decodedValues('subject')[0]),
      reason, mime, handle, periodSeconds,
      inReplyTo: message.values('message-id')[0],
      references: message.values('references')[0],
    },
  };
  chain.trace.push(`vacation to <${check.to}> (once per ${periodSeconds}s, handle ${JSON.stringify(handle)})`);
}

/** A string argument as written in the script (variables not expanded), or undefined when absent. */
function unexpanded(arg: Arg | true | undefined): string | undefined {
  return arg !== undefined && arg !== true && arg.kind === 'string' ? arg.value : undefined;
}

/** setflag / addflag / removeflag on the internal variable or a named one (RFC 5232 §3). */
function flags(ctx: Ctx, c: CommandNode): void {
  const named = c.positional.length > 1;
  const varName = named ? str(ctx, c.positional[0]) : undefined;
  const given = flagList(strings(ctx, c.positional[named ? 1 : 0]));
  const current = varName !== undefined ? flagList([ctx.s.vars?.get(varName) ?? '']) : ctx.s.flags;
  let next: string[];
  if (c.name === 'setflag') next = given;
  else if (c.name === 'addflag') next = mergeFlags(current, given);
  else {
    const drop = new Set(given.map(flagKey));
    next = current.filter((f) => !drop.has(flagKey(f)));
  }
  if (varName !== undefined) ctx.s.vars?.set(varName, next.join(' '));
  else ctx.s.flags = next;
}

const flagKey = (f: string): string => (f.startsWith('\\') ? f.toLowerCase() : f);

/** Union of two flag lists, in order, system flags compared case-insensitively. */
export function mergeFlags(a: readonly string[], b: readonly string[]): string[] {
  return flagList([...a, ...b]);
}
