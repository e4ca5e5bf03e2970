/**
 * Evaluates Sieve tests to true or false: the RFC 5228 §5 tests and those of
 * body (RFC 5173), variables' string (RFC 5229 §5), imap4flags' hasflag (RFC
 * 5232 §4), spamtest/virustest (RFC 5235), duplicate (RFC 7352) and
 * mailboxexists (RFC 5490). Matching is match.ts's; every loop is charged to
 * the step budget. Pure: the environment answers every question.
 */
import { createHash } from 'node:crypto';
import type { TestNode } from './ast.js';
import {
  describeNode, expand, flagList, hasTag, matchSpec, num, runtimeError, str, strings, tag, type Ctx,
} from './evaluate-context.js';
import { addressValues, envelopeValues, type AddressPart } from './evaluate-address.js';
import type { MatchSpec } from './match-api.js';
import { matchValues } from './match.js';
import { notifyMethodCapability, validNotifyMethod } from './evaluate-notify.js';
import { evalMimeTest } from './evaluate-mime.js';
import { contentTypeMatches, mimeParts, splitHead } from './mime.js';
import { evalCurrentDate, evalDate, pickIndexed } from './evaluate-date.js';
import { evalEnvironment, evalIhave } from './evaluate-environment.js';

/** RFC 7352 §3: without :seconds, Pigeonhole's default tracking period (7 days); longer requests are capped. */
const DUPLICATE_DEFAULT_SECONDS = 7 * 86_400;
const DUPLICATE_MAX_SECONDS = 90 * 86_400;

export function evalTest(ctx: Ctx, t: TestNode): boolean {
  ctx.chain.budget.spend(1);
  if (hasTag(t, 'mime')) return evalMimeTest(ctx, t, match, addressPart(t)); // RFC 5703 §4: header, address, exists
  switch (t.name) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !evalTest(ctx, t.tests[0]!);
    case 'allof':
      return t.tests.every((sub) => evalTest(ctx, sub)); // short-circuits, RFC 5228 §5.2
    case 'anyof':
      return t.tests.some((sub) => evalTest(ctx, sub));
    case 'exists':
      return strings(ctx, t.positional[0]).every((h) => ctx.chain.message.has(h));
    case 'size': {
      const limit = num(t.positional[0]) ?? 0;
      const size = ctx.chain.message.size;
      return hasTag(t, 'over') ? size > limit : size < limit; // §5.9: neither is inclusive
    }
    case 'header': {
      const values = pickIndexed(t, strings(ctx, t.positional[0]).flatMap((h) => ctx.chain.message.decodedValues(h)));
      return match(ctx, t, values, strings(ctx, t.positional[1]));
    }
    case 'address': {
      const part = addressPart(t);
      const fields = pickIndexed(t, strings(ctx, t.positional[0]).flatMap((h) => ctx.chain.message.values(h)));
      const values = fields.flatMap((v) => addressValues(v, part));
      return match(ctx, t, values, strings(ctx, t.positional[1]));
    }
    case 'envelope': {
      const part = addressPart(t);
      const { env } = ctx.chain;
      const values = strings(ctx, t.positional[0]).flatMap((p) => {
        const which = p.toLowerCase();
        if (which === 'from') return envelopeValues(env.sender, part);
        if (which === 'to') return envelopeValues(env.recipient, part);
        throw runtimeError(ctx, t, `unknown envelope part ${JSON.stringify(p)}`);
      });
      return match(ctx, t, values, strings(ctx, t.positional[1]));
    }
    case 'body':
      // RFC 5173 §6: the body test never sets match variables; earlier values stay.
      return match(ctx, t, bodyValues(ctx, t), strings(ctx, t.positional[0]), matchSpec(ctx, t), false);
    case 'string': {
      const spec = matchSpec(ctx, t);
      const sources = strings(ctx, t.positional[0]);
      // RFC 5229 §5: for :count, empty strings are not counted.
      const values = spec.type === 'count' ? sources.filter((s) => s !== '') : sources;
      return match(ctx, t, values, strings(ctx, t.positional[1]), spec);
    }
    case 'hasflag': {
      const named = t.positional.length > 1;
      const flags = named ? strings(ctx, t.positional[0]).flatMap((v) => flagList([ctx.s.vars?.get(v) ?? ''])) : ctx.s.flags;
      const keys = flagList(strings(ctx, t.positional[named ? 1 : 0]));
      return match(ctx, t, flags, keys);
    }
    case 'spamtest': {
      const { scan } = ctx.chain.env;
      const value = hasTag(t, 'percent') ? scan.spamPercent : scan.spam;
      return match(ctx, t, value === undefined ? [] : [value], strings(ctx, t.positional[0]));
    }
    case 'virustest':
      return match(ctx, t, [ctx.chain.env.scan.virus], strings(ctx, t.positional[0]));
    case 'duplicate':
      return duplicate(ctx, t);
    case 'mailboxexists':
      return strings(ctx, t.positional[0]).every((m) => ctx.chain.env.mailboxExists(m));
    case 'valid_notify_method':
      return validNotifyMethod(ctx, t);
    case 'notify_method_capability':
      return notifyMethodCapability(ctx, t, (values, keys) => match(ctx, t, values, keys));
    case 'date': // RFC 5260 §4
      return evalDate(ctx, t);
    case 'currentdate': // RFC 5260 §5
      return evalCurrentDate(ctx, t);
    case 'environment': // RFC 5183
      return evalEnvironment(ctx, t);
    case 'ihave': // RFC 5463 §4
      return evalIhave(ctx, t);
    default: {
      const extended = ctx.chain.extension?.test(ctx, t);
      if (extended !== undefined) return extended;
      throw runtimeError(ctx, t, 'unknown test');
    }
  }
}

function addressPart(t: TestNode): AddressPart {
  for (const p of ['localpart', 'domain', 'user', 'detail'] as const) if (hasTag(t, p)) return p;
  return 'all';
}

/** Runs the match and keeps the match variables of a successful :matches/:regex (RFC 5229 §3.2). */
function match(ctx: Ctx, t: TestNode, values: string[], keys: string[], spec: MatchSpec = matchSpec(ctx, t), setsVars = true): boolean {
  const r = matchValues(values, keys, spec, ctx.chain.budget, { captures: setsVars && ctx.s.vars !== null });
  if (r.matched && r.captures && ctx.s.vars) ctx.s.matchVars = r.captures;
  return r.matched;
}

/**
 * RFC 5173 §5: :raw is the undecoded body; :content lists MIME types whose
 * decoded parts are matched; :text (the default) is :content "text". A
 * multipart that matches contributes its prologue and epilogue as two strings
 * (§5.2). A message without the empty line after its header has no body, so
 * there is nothing to match and every body test is false (§4).
 */
function bodyValues(ctx: Ctx, t: TestNode): string[] {
  const raw = ctx.chain.message.raw;
  if (!raw) throw runtimeError(ctx, t, 'the message body is not available');
  ctx.chain.budget.spend(1 + (raw.length >> 6));
  const split = splitHead(raw);
  if (!split.hasBody) return [];
  if (hasTag(t, 'raw')) return [split.body.toString('utf8')];
  const types = hasTag(t, 'content') ? strings(ctx, tag(t, 'content')) : ['text'];
  return mimeParts(raw)
    .filter((p) => types.some((w) => contentTypeMatches(p.type, w)))
    .flatMap((p) => (p.type.startsWith('multipart/') ? [p.text, p.epilogue ?? ''] : [p.text]));
}

/**
 * RFC 7352 §3: the id is the Message-ID (or :header's field, or :uniqueid),
 * tracked per :handle. A message without one is never a duplicate and is not
 * recorded. The id is recorded only once the message is delivered (the plan
 * carries it); :last restarts the period on every sighting.
 */
function duplicate(ctx: Ctx, t: TestNode): boolean {
  const { message, env, duplicates, trace } = ctx.chain;
  let id: string | undefined;
  if (hasTag(t, 'uniqueid')) id = str(ctx, tag(t, 'uniqueid'));
  else {
    const field = hasTag(t, 'header') ? str(ctx, tag(t, 'header')) : 'message-id';
    id = message.decodedValues(field)[0];
    // Message-IDs compare without their surrounding white space and angle-bracket formatting differences.
    if (id !== undefined && field.toLowerCase() === 'message-id') id = id.replace(/\s+/g, '');
  }
  if (id === undefined || id === '') {
    trace.push(`${describeNode(t)}: no unique id in the message: not a duplicate`);
    return false;
  }
  const handle = hasTag(t, 'handle') ? str(ctx, tag(t, 'handle')) : '';
  const key = duplicateKey(handle, id);
  // RFC 7352 §3: only deliveries before this one count; an id this run records (below) is stored
  // after delivery, so a second test of it in this run answers as the first did (as Pigeonhole).
  const seen = env.duplicateSeen(key);
  const asked = num(tag(t, 'seconds'));
  const seconds = Math.min(asked ?? DUPLICATE_DEFAULT_SECONDS, DUPLICATE_MAX_SECONDS);
  if (!seen || hasTag(t, 'last')) duplicates.set(key, Math.max(duplicates.get(key) ?? 0, seconds));
  return seen;
}

/** The state key of a tracked id: the handle and the id, hashed (ids are untrusted text). */
export function duplicateKey(handle: string, id: string): string {
  return createHash('sha256').update(`dup\0${handle}\0${id}`).digest('hex').slice(0, 40);
}

/** For traces: the test as written, with its first key. */
export function describeTest(ctx: Ctx, t: TestNode): string {
  if (t.name === 'not') return `not ${describeTest(ctx, t.tests[0]!)}`;
  if (t.name === 'allof' || t.name === 'anyof') return `${t.name}(${t.tests.map((x) => describeTest(ctx, x)).join(', ')})`;
  const args = t.positional.map((a) =>
    a.kind === 'number' ? String(a.value) : a.kind === 'string' ? JSON.stringify(expand(ctx, a.value)) : a.kind === 'list' ? JSON.stringify(a.items.map((i) => i.value)) : '',
  );
  return [describeNode(t), ...args].join(' ');
}
