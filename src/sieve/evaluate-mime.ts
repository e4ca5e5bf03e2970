/**
 * Runs the RFC 5703 extensions: foreverypart loops and break (§3), the :mime forms of header,
 * address and exists (§4), extracttext (§7). The MIME tree (mime-tree.ts) is built once per run
 * from the capped message prefix the pipeline read; the top-level part's header comes from the
 * SieveMessage, so it is the same header the other tests see. Must not: do I/O, or read past the
 * prefix it was given. Pure.
 */
import type { CommandNode, Script, TestNode } from './ast.js';
import { MODIFIERS } from './evaluate-actions.js';
import { addressValues, type AddressPart } from './evaluate-address.js';
import { hasTag, runtimeError, str, strings, tag, num, type Ctx, type LoopFrame } from './evaluate-context.js';
import { mimeOptionValues, mimeTree, partText, type MimeEntity, type MimeOption } from './mime-tree.js';
import { decodeEncodedWords } from './rfc2047.js';
import { applyModifiers } from './variables.js';

/** Thrown by break (§3.2); the loop it names (or the innermost one) catches it. */
export class BreakLoop extends Error {
  constructor(readonly label: string | undefined) {
    super('break');
  }
}

function treeOf(ctx: Ctx, node: CommandNode | TestNode): MimeEntity[] {
  if (ctx.chain.mime) return ctx.chain.mime;
  const raw = ctx.chain.message.raw;
  if (!raw) throw runtimeError(ctx, node, 'the message body is not available');
  ctx.chain.budget.spend(1 + (raw.length >> 6));
  ctx.chain.mime = mimeTree(raw);
  return ctx.chain.mime;
}

/**
 * §3: the loop runs its block once per MIME part in depth-first order: over the whole message
 * (the top level first) when outermost, over the parts inside the enclosing loop's current part
 * when nested.
 */
export function forEveryPart(ctx: Ctx, c: CommandNode, body: (inner: Ctx) => void): void {
  const tree = treeOf(ctx, c);
  const name = hasTag(c, 'name') ? str(ctx, tag(c, 'name')) : '';
  const [from, to] = ctx.loop ? [ctx.loop.part.index + 1, ctx.loop.part.end] : [0, tree.length];
  for (let i = from; i < to; i++) {
    ctx.chain.budget.spend(1);
    const loop: LoopFrame = { part: tree[i]!, name, parent: ctx.loop };
    try {
      body({ ...ctx, loop });
    } catch (err) {
      if (!(err instanceof BreakLoop)) throw err;
      if (err.label === undefined || err.label === name) return; // ends this loop
      throw err; // names an outer loop
    }
  }
}

/** §3.2: break ends the innermost loop, or the innermost one with that :name. */
export function breakLoop(ctx: Ctx, c: CommandNode): BreakLoop {
  if (!ctx.loop) throw runtimeError(ctx, c, 'break outside a foreverypart loop');
  return new BreakLoop(hasTag(c, 'name') ? str(ctx, tag(c, 'name')) : undefined);
}

/** One part's header, as header/address/exists read it. */
interface PartHeader {
  raw(name: string): string[];
  decoded(name: string): string[];
}

function headerOf(ctx: Ctx, e: MimeEntity | undefined): PartHeader {
  const { message } = ctx.chain;
  if (!e || e.index === 0) return { raw: (n) => message.values(n), decoded: (n) => message.decodedValues(n) };
  const raw = (n: string): string[] => e.fields.filter((f) => f.name === n.toLowerCase()).map((f) => f.value);
  return { raw, decoded: (n) => raw(n).map((v) => (v.includes('=?') ? decodeEncodedWords(v) : v)) };
}

/**
 * §4.1: the parts a :mime test looks at: the current part (the top level outside a loop); with
 * :anychild, that part and every part inside it (outside a loop: every part of the message).
 */
function partsInScope(ctx: Ctx, t: TestNode): PartHeader[] {
  if (!hasTag(t, 'anychild')) return [headerOf(ctx, ctx.loop?.part)];
  const tree = treeOf(ctx, t);
  const [from, to] = ctx.loop ? [ctx.loop.part.index, ctx.loop.part.end] : [0, tree.length];
  return tree.slice(from, to).map((e) => headerOf(ctx, e));
}

function mimeOption(ctx: Ctx, t: TestNode): MimeOption | undefined {
  if (hasTag(t, 'type')) return { kind: 'type' };
  if (hasTag(t, 'subtype')) return { kind: 'subtype' };
  if (hasTag(t, 'contenttype')) return { kind: 'contenttype' };
  if (hasTag(t, 'param')) return { kind: 'param', names: strings(ctx, tag(t, 'param')) };
  return undefined;
}

export type Matcher = (ctx: Ctx, t: TestNode, values: string[], keys: string[]) => boolean;

/** §4.2-4.4: header, address and exists with :mime; true when any part in scope passes. */
export function evalMimeTest(ctx: Ctx, t: TestNode, match: Matcher, part: AddressPart): boolean {
  const names = strings(ctx, t.positional[0]);
  const keys = t.name === 'exists' ? [] : strings(ctx, t.positional[1]);
  const option = t.name === 'header' ? mimeOption(ctx, t) : undefined;
  for (const h of partsInScope(ctx, t)) {
    ctx.chain.budget.spend(1);
    if (t.name === 'exists') {
      if (names.every((n) => h.raw(n).length > 0)) return true;
      continue;
    }
    const values =
      t.name === 'address'
        ? names.flatMap((n) => h.raw(n).flatMap((v) => addressValues(v, part)))
        : names.flatMap((n) => h.decoded(n).flatMap((v) => mimeOptionValues(n, v, option)));
    if (match(ctx, t, values, keys)) return true;
  }
  return false;
}

/** §7: sets a variable to the text of the current part (its first :first characters), modifiers applied. */
export function extractText(ctx: Ctx, c: CommandNode): void {
  if (!ctx.loop) throw runtimeError(ctx, c, 'extracttext outside a foreverypart loop (RFC 5703 §7)');
  const part = ctx.loop.part;
  ctx.chain.budget.spend(1 + (part.body.length >> 6));
  let text = partText(part);
  const first = num(tag(c, 'first'));
  if (first !== undefined) text = [...text.slice(0, first * 2)].slice(0, first).join(''); // characters, not octets
  ctx.s.vars?.set(str(ctx, c.positional[0]), applyModifiers(text, MODIFIERS.filter((m) => hasTag(c, m))));
}

/**
 * Whether the scripts look inside the MIME structure (foreverypart, or :anychild), so the pipeline
 * reads the capped message prefix as it does for body. Top-level `header :mime` needs only the header.
 */
export function scriptReadsParts(scripts: readonly Script[]): boolean {
  const todo: Array<CommandNode | TestNode> = scripts.flatMap((s) => s.commands);
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    if (n.name === 'foreverypart' || Object.hasOwn(n.tags, 'anychild')) return true;
    if (n.kind === 'command') {
      if (n.test) todo.push(n.test);
      if (n.block) todo.push(...n.block);
    } else todo.push(...n.tests);
  }
  return false;
}
