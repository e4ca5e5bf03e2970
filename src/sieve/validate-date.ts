/**
 * Compile-time checks of the date/index (RFC 5260) and ihave (RFC 5463) arguments that the spec
 * table cannot express. Unknown date-parts and invalid :zone strings are NOT errors: Pigeonhole
 * only warns about them and the test is false (or uses the local zone) at run time, so scripts
 * written for it keep compiling. Must not: evaluate anything. Pure.
 */
import type { Arg, StringLit, TestNode } from './ast.js';
import { isConstant } from './validate-checks.js';
import type { ValidationContext } from './validate-args.js';

const strings = (a: Arg | true | undefined): StringLit[] =>
  a === undefined || a === true ? [] : a.kind === 'string' ? [a] : a.kind === 'list' ? a.items : [];

/** The tests that take :index/:last (duplicate has a :last of its own, RFC 7352). */
const INDEXED = new Set(['header', 'address', 'date']);

export function checkDateIndexIhave(t: TestNode, ctx: ValidationContext): void {
  if (INDEXED.has(t.name) && Object.hasOwn(t.tags, 'last') && !Object.hasOwn(t.tags, 'index')) {
    ctx.error(t.pos, `:last needs :index: write :index 1 :last for the last field (RFC 5260 §6)`);
  }
  const index = t.tags.index;
  if (index !== undefined && index !== true && index.kind === 'number' && index.value < 1) {
    ctx.error(index.pos, `:index counts fields from 1, so ${index.value} names none (RFC 5260 §6)`);
  }
  if (t.name === 'ihave') {
    for (const s of strings(t.positional[0])) {
      if (!isConstant(s.value, ctx.caps)) ctx.error(s.pos, 'ihave takes constant capability names, not variables (RFC 5463 §4)');
    }
  }
}
