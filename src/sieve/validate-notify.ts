/**
 * Compile-time checks of enotify (RFC 5435) with the mailto method (RFC 5436) on constant strings:
 * the notify method is a valid mailto URI (RFC 5435 §3.1, RFC 5436 §2.1), :importance is "1"/"2"/"3"
 * (RFC 5436 §2.4), :from is an address (§2.3), :options are `name=value` (§2.5). Strings with ${variables} wait for run time
 * (evaluate-notify.ts). Must not: evaluate anything. Pure.
 */
import type { Arg, CommandNode, StringLit } from './ast.js';
import { parseMailtoUri } from './mailto.js';
import { addressProblem, isConstant } from './validate-checks.js';
import type { ValidationContext } from './validate-args.js';

const strings = (a: Arg | true | undefined): StringLit[] =>
  a === undefined || a === true ? [] : a.kind === 'string' ? [a] : a.kind === 'list' ? a.items : [];

/** RFC 5436 §2.5: option-name "=" value, the name starting with a letter or digit. */
const OPTION = /^[A-Za-z0-9][A-Za-z0-9.\-_]*=/;

export function checkNotify(c: CommandNode, ctx: ValidationContext): void {
  const fixed = (s: StringLit): boolean => isConstant(s.value, ctx.caps);
  for (const m of strings(c.positional[0]).filter(fixed)) {
    const r = parseMailtoUri(m.value);
    if (!r.ok) ctx.error(m.pos, `invalid notification method ${JSON.stringify(m.value.slice(0, 60))}: ${r.why} (RFC 5435 §3.1, RFC 5436 §2.1)`);
  }
  for (const i of strings(c.tags.importance).filter(fixed)) {
    if (!['1', '2', '3'].includes(i.value)) ctx.error(i.pos, `:importance must be "1", "2" or "3", not ${JSON.stringify(i.value)} (RFC 5436 §2.4)`);
  }
  for (const f of strings(c.tags.from).filter(fixed)) {
    const problem = addressProblem(f.value);
    if (problem) ctx.error(f.pos, `the notify :from address ${JSON.stringify(f.value)} is not a valid address: ${problem} (RFC 5436 §2.3)`);
  }
  for (const o of strings(c.tags.options).filter(fixed)) {
    if (!OPTION.test(o.value)) ctx.error(o.pos, `:options items are "name=value", not ${JSON.stringify(o.value)} (RFC 5436 §2.5)`);
  }
}
