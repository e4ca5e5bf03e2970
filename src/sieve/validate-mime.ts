/**
 * Compile-time rules of RFC 5703 that depend on where a command stands, which the per-node spec
 * table cannot say: foreverypart nesting (at most MAX_LOOP_NESTING, Pigeonhole's limit), break
 * only inside a loop and naming an enclosing one (§3.2), extracttext only inside a loop and with
 * variables (§7), and the :mime options of header/address/exists only with :mime (§4). Must not:
 * check arguments validate-args.ts already checked. Pure.
 */
import type { CommandNode, StringLit, TestNode } from './ast.js';
import type { ValidationContext } from './validate-args.js';
import { isConstant } from './validate-checks.js';
import { isVariableName } from './variables.js';

/** foreverypart loops nested at most this deep (Pigeonhole refuses a fifth level). */
export const MAX_LOOP_NESTING = 4;

const MIME_OPTIONS = ['anychild', 'type', 'subtype', 'contenttype', 'param'];

export function checkMimeUse(commands: readonly CommandNode[], ctx: ValidationContext): void {
  if (!['mime', 'foreverypart', 'extracttext'].some((c) => ctx.caps.has(c))) return;
  walk(commands, [], ctx);
}

/** `loops`: the names ('' when unnamed) of the enclosing foreverypart loops, outermost first. */
function walk(commands: readonly CommandNode[], loops: readonly string[], ctx: ValidationContext): void {
  for (const c of commands) {
    if (c.test) checkTests(c.test, ctx);
    if (c.name === 'foreverypart') {
      if (loops.length >= MAX_LOOP_NESTING) ctx.error(c.pos, `foreverypart loops nest at most ${MAX_LOOP_NESTING} deep (RFC 5703 §3, as in Pigeonhole)`);
      walk(c.block ?? [], [...loops, nameOf(c.tags.name)], ctx);
      continue;
    }
    if (c.name === 'break') {
      const name = c.tags.name === undefined ? undefined : nameOf(c.tags.name);
      if (loops.length === 0) ctx.error(c.pos, 'break is only allowed inside a foreverypart loop (RFC 5703 §3.2)');
      else if (name !== undefined && !loops.includes(name)) ctx.error(c.pos, `break :name ${JSON.stringify(name)}: no enclosing foreverypart loop has that name (RFC 5703 §3.2)`);
    }
    if (c.name === 'extracttext') checkExtractText(c, loops.length > 0, ctx);
    if (c.block) walk(c.block, loops, ctx);
  }
}

function checkExtractText(c: CommandNode, inLoop: boolean, ctx: ValidationContext): void {
  if (!ctx.caps.has('variables') || !ctx.caps.has('foreverypart')) {
    ctx.error(c.pos, 'extracttext needs require "variables" and "foreverypart" (RFC 5703 §7)');
    return;
  }
  if (!inLoop) ctx.error(c.pos, 'extracttext is only allowed inside a foreverypart loop (RFC 5703 §7)');
  const v = c.positional[0];
  if (v?.kind === 'string' && isConstant(v.value, ctx.caps) && !isVariableName(v.value)) {
    ctx.error(v.pos, `invalid variable name ${JSON.stringify(v.value)}: letters, digits and _, not starting with a digit (RFC 5229 §3)`);
  }
  const first = c.tags.first;
  if (first !== undefined && first !== true && first.kind === 'number' && first.value < 0) ctx.error(first.pos, ':first needs a number of characters');
}

/** RFC 5703 §4.1-4.2: :anychild, :type, :subtype, :contenttype and :param refine :mime and need it. */
function checkTests(t: TestNode, ctx: ValidationContext): void {
  for (const sub of t.tests) checkTests(sub, ctx);
  if (Object.hasOwn(t.tags, 'mime')) return;
  for (const name of MIME_OPTIONS) {
    if (!Object.hasOwn(t.tags, name)) continue;
    const at = t.args.find((a) => a.kind === 'tag' && a.name === name)!;
    ctx.error(at.pos, `tag :${name} of the ${t.name} test needs :mime as well (RFC 5703 §4)`);
  }
}

function nameOf(a: CommandNode['tags'][string] | undefined): string {
  return a !== undefined && a !== true && a.kind === 'string' ? (a as StringLit).value : '';
}
