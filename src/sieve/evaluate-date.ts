/**
 * Evaluates the date and currentdate tests (RFC 5260 §4-§5) and applies :index/:last (RFC 5260
 * §6) for header, address and date. The current instant is the run's one clock reading
 * (SieveEnv.clock); the local zone comes from there too. Must not: read the clock. Pure.
 */
import type { TestNode } from './ast.js';
import { parseHeaderDate, parseZone } from './date-parse.js';
import { datePart } from './date-parts.js';
import { hasTag, matchSpec, num, str, strings, tag, type Ctx } from './evaluate-context.js';
import { matchValues } from './match.js';

/**
 * RFC 5260 §6: with :index N only the Nth field is tested (counted over the fields of every
 * named header, in the order the names are given, as Pigeonhole does); :last counts from the end.
 */
export function pickIndexed<T>(t: TestNode, fields: readonly T[]): T[] {
  const n = num(tag(t, 'index'));
  if (n === undefined) return [...fields];
  const i = hasTag(t, 'last') ? fields.length - n : n - 1;
  return i >= 0 && i < fields.length ? [fields[i]!] : [];
}

/** The zone to show the date in: :zone, else :originalzone's, else the local zone (RFC 5260 §4.1). */
function zoneFor(ctx: Ctx, t: TestNode, ms: number, original: number | undefined): number {
  if (original !== undefined && hasTag(t, 'originalzone')) return original;
  if (hasTag(t, 'zone')) {
    // An invalid zone is only a warning in Pigeonhole; the local zone is used, as if none was given.
    const z = parseZone(str(ctx, tag(t, 'zone')));
    if (z !== null) return z;
  }
  return ctx.chain.env.clock.localOffset(ms);
}

/** date [:zone/:originalzone] [:index N [:last]] <header-name> <date-part> <key-list> (RFC 5260 §4). */
export function evalDate(ctx: Ctx, t: TestNode): boolean {
  const header = str(ctx, t.positional[0]);
  const part = str(ctx, t.positional[1]);
  // §4: only the first field of that name, unless :index picks another
  const fields = ctx.chain.message.values(header);
  const field = hasTag(t, 'index') ? pickIndexed(t, fields)[0] : fields[0];
  ctx.chain.budget.spend(1 + ((field?.length ?? 0) >> 6));
  const parsed = field === undefined ? null : parseHeaderDate(field);
  // §4: an absent field, or one without a valid date-time, makes the test false (its :count is 0)
  const value = parsed === null ? undefined : datePart(parsed.ms, zoneFor(ctx, t, parsed.ms, parsed.offset), part);
  return matchPart(ctx, t, value, strings(ctx, t.positional[2]));
}

/** currentdate [:zone] <date-part> <key-list> (RFC 5260 §5): the run's one instant. */
export function evalCurrentDate(ctx: Ctx, t: TestNode): boolean {
  const ms = ctx.chain.env.clock.nowMs;
  const value = datePart(ms, zoneFor(ctx, t, ms, undefined), str(ctx, t.positional[0]));
  return matchPart(ctx, t, value, strings(ctx, t.positional[1]));
}

/** An unknown date-part has no value: the test is false (Pigeonhole only warns at compile time). */
function matchPart(ctx: Ctx, t: TestNode, value: string | undefined, keys: string[]): boolean {
  const r = matchValues(value === undefined ? [] : [value], keys, matchSpec(ctx, t), ctx.chain.budget, { captures: ctx.s.vars !== null });
  if (r.matched && r.captures && ctx.s.vars) ctx.s.matchVars = r.captures;
  return r.matched;
}
