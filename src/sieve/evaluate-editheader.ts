/**
 * Runs editheader's addheader and deleteheader (RFC 5293 §4-§5) into the chain state: a new header
 * snapshot, and the message later tests see. Protected fields are left alone (a trace line, no
 * error, as Pigeonhole); a name from a variable that is no field name, or an over-long value, is a
 * runtime error (so the original message is kept). Must not: rebuild message bytes (the commit
 * does, maildir/rewrite.ts). Pure.
 */
import type { CommandNode } from './ast.js';
import { hasTag, matchSpec, num, runtimeError, str, strings, tag, type Ctx } from './evaluate-context.js';
import {
  addField, deleteField, fieldSize, isFieldName, MAX_ADDED_FIELD, originalFields, protectedField, type HeaderSnapshot,
} from './header-edits.js';
import { matchValues } from './match.js';
import type { SievePlan } from './plan.js';
import { decodeEncodedWords } from './rfc2047.js';

/**
 * At most this many differently edited copies per message: each is a full copy of the message on
 * disk, so a script of many edit-and-fileinto pairs must not multiply a large message without bound.
 */
export const MAX_EDITED_COPIES = 16;

export function editHeader(ctx: Ctx, c: CommandNode): void {
  const { chain } = ctx;
  const name = str(ctx, c.positional[0]);
  // RFC 5293 §4/§5: a field name known only at run time is checked now.
  if (!isFieldName(name)) throw runtimeError(ctx, c, `${JSON.stringify(name)} is not a header field name (RFC 5293 §4)`);
  const refused = protectedField(name, c.name === 'addheader' ? 'add' : 'delete');
  if (refused) {
    chain.trace.push(`${c.name} ${name} ignored: ${refused}`);
    return;
  }
  const before = chain.header ?? originalFields(chain.message.fields);
  const after = c.name === 'addheader' ? add(ctx, c, before, name) : remove(ctx, c, before, name);
  if (after === before) return;
  // RFC 5228 §5.9 size with the edits: what was added counts, what was removed does not.
  ctx.chain.budget.spend(before.length + after.length);
  const had = new Set(before);
  const has = new Set(after);
  const grown = after.reduce((n, f) => n + (had.has(f) ? 0 : fieldSize(f)), 0);
  const shrunk = before.reduce((n, f) => n + (has.has(f) ? 0 : fieldSize(f)), 0);
  chain.header = after;
  chain.message = chain.message.withFields(after, Math.max(0, chain.message.size + grown - shrunk));
}

function add(ctx: Ctx, c: CommandNode, h: HeaderSnapshot, name: string): HeaderSnapshot {
  const value = str(ctx, c.positional[1]);
  if (Buffer.byteLength(value, 'utf8') > MAX_ADDED_FIELD || name.length > MAX_ADDED_FIELD) {
    throw runtimeError(ctx, c, `the new header field is longer than ${MAX_ADDED_FIELD} bytes`);
  }
  const last = hasTag(c, 'last');
  ctx.chain.trace.push(`addheader${last ? ' :last' : ''} ${name}`);
  return addField(h, name, value, last);
}

/**
 * RFC 5293 §5: value patterns match the decoded value as the header test does (RFC 5228 §5.7),
 * without setting match variables; no patterns deletes every field of that name.
 */
function remove(ctx: Ctx, c: CommandNode, h: HeaderSnapshot, name: string): HeaderSnapshot {
  const patterns = c.positional.length > 1 ? strings(ctx, c.positional[1]) : undefined;
  const spec = patterns ? matchSpec(ctx, c) : undefined;
  const n = num(tag(c, 'index'));
  const index = n !== undefined ? { n, last: hasTag(c, 'last') } : undefined;
  const after = deleteField(h, name, (f) => {
    if (!patterns || !spec) return true;
    const value = f.value.includes('=?') ? decodeEncodedWords(f.value) : f.value;
    return matchValues([value], patterns, spec, ctx.chain.budget, { captures: false }).matched;
  }, index);
  ctx.chain.trace.push(`deleteheader ${name}: ${h.length - after.length} field(s) removed`);
  return after;
}

/** The runtime error of a plan whose actions carry more distinct edited headers than MAX_EDITED_COPIES, or null. */
export function editedCopiesError(plan: SievePlan): string | null {
  const headers = new Set([plan.keep?.header, ...plan.fileinto.map((f) => f.header), ...plan.redirects.map((r) => r.header)]);
  headers.delete(undefined);
  if (headers.size <= MAX_EDITED_COPIES) return null;
  return `editheader: ${headers.size} differently edited copies of the message; at most ${MAX_EDITED_COPIES}`;
}
