/**
 * Value checks on a node whose arguments validate-args.ts has sorted: comparator names, match type
 * against comparator, relational operators, regex keys, address-test headers, envelope parts,
 * variable names and outbound addresses. Only constant strings are checked: a string with a
 * ${variable} is known at run time only (RFC 5228 §2.10.6 lets checks wait until then). Pure.
 */
import type { Arg, CommandNode, StringLit, TestNode } from './ast.js';
import { isFieldName, MAX_ADDED_FIELD } from './header-edits.js';
import { ADDRESS_HEADERS, COMPARATORS, ENVELOPE_PARTS, MATCH_TYPE_TAGS, RELATIONS } from './specs.js';
import type { ValidationContext } from './validate-args.js';
import { checkNotify } from './validate-notify.js';
import { checkDateIndexIhave } from './validate-date.js';
import { checkIncludeCommand, isGlobalNamespaceName } from './validate-include.js';

/** The contract of compileRegex in regex.ts (the matching engine's POSIX ERE translator). */
export type RegexCompiler = (pattern: string, caseInsensitive: boolean) => { ok: true } | { ok: false; why: string };

export interface CheckContext extends ValidationContext {
  compileRegex: RegexCompiler;
}

/** variable-ref (RFC 5229 §3): "${" [namespace] variable-name "}"; anything else in ${...} is literal text. */
const VARIABLE_REF = /\$\{(?:[A-Za-z_][A-Za-z0-9_]*\.)*(?:[0-9]+|[A-Za-z_][A-Za-z0-9_]*)\}/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string whose value is known now: no variable reference, or no variables extension to expand one. */
export const isConstant = (s: string, caps: ReadonlySet<string>): boolean => !caps.has('variables') || !VARIABLE_REF.test(s);

const strings = (a: Arg | true | undefined): StringLit[] =>
  a === undefined || a === true ? [] : a.kind === 'string' ? [a] : a.kind === 'list' ? a.items : [];

const quoted = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);

export function checkTest(t: TestNode, ctx: CheckContext): void {
  checkMatching(t, ctx);
  checkDateIndexIhave(t, ctx);
  if (t.name === 'address') {
    for (const h of strings(t.positional[0])) {
      if (isConstant(h.value, ctx.caps) && !ADDRESS_HEADERS.has(h.value.toLowerCase())) {
        ctx.error(h.pos, `the address test only reads headers that hold addresses, and ${quoted(h.value)} is not one (RFC 5228 §5.1); use the header test`);
      }
    }
  } else if (t.name === 'envelope') {
    for (const p of strings(t.positional[0])) {
      if (isConstant(p.value, ctx.caps) && !ENVELOPE_PARTS.has(p.value.toLowerCase())) {
        ctx.error(p.pos, `unknown envelope part ${quoted(p.value)}: mda knows "from" and "to" (RFC 5228 §5.4)`);
      }
    }
  } else if (t.name === 'hasflag' && t.positional.length === 2) {
    for (const v of strings(t.positional[0])) checkVariableName(v, false, ctx);
  }
}

export function checkCommand(c: CommandNode, ctx: CheckContext): void {
  switch (c.name) {
    case 'redirect':
      for (const a of strings(c.positional[0])) checkAddress(a, 'the redirect address', ctx);
      break;
    case 'vacation':
      for (const a of strings(c.tags.from)) checkAddress(a, 'the vacation :from address', ctx);
      break;
    case 'set':
      for (const v of strings(c.positional[0])) checkVariableName(v, true, ctx);
      break;
    case 'setflag':
    case 'addflag':
    case 'removeflag':
      if (c.positional.length === 2) for (const v of strings(c.positional[0])) checkVariableName(v, true, ctx);
      break;
    case 'notify':
      checkNotify(c, ctx);
      break;
    case 'addheader':
    case 'deleteheader':
      checkEditHeader(c, ctx);
      break;
    case 'include': // RFC 6609
      checkIncludeCommand(c, ctx);
      break;
    case 'global':
      checkIncludeCommand(c, ctx);
      for (const v of strings(c.positional[0])) checkVariableName(v, true, ctx);
      break;
    default:
  }
}

/**
 * editheader (RFC 5293 §4-§5): a constant field name must be a field name, a constant new value
 * must fit Pigeonhole's size limit, :last needs :index and :index counts from 1; deleteheader's
 * comparator and match type are checked as a test's.
 */
function checkEditHeader(c: CommandNode, ctx: CheckContext): void {
  for (const n of strings(c.positional[0])) {
    if (isConstant(n.value, ctx.caps) && !isFieldName(n.value)) {
      ctx.error(n.pos, `${quoted(n.value)} is not a header field name: printable US-ASCII without spaces or colons (RFC 5293 §4, RFC 5322 §3.6.8)`);
    }
  }
  if (c.name === 'addheader') {
    for (const v of strings(c.positional[1])) {
      if (Buffer.byteLength(v.value, 'utf8') > MAX_ADDED_FIELD) ctx.error(v.pos, `the new header value is longer than ${MAX_ADDED_FIELD} bytes`);
    }
    return;
  }
  const index = c.tags.index;
  if (c.tags.last !== undefined && index === undefined) ctx.error(c.pos, 'deleteheader :last needs :index (RFC 5293 §5)');
  if (index !== undefined && index !== true && index.kind === 'number' && index.value < 1) ctx.error(index.pos, 'deleteheader :index counts from 1 (RFC 5293 §5)');
  checkMatching(c, ctx);
}

/**
 * Comparator (RFC 5228 §2.7.3), relational operator (RFC 5231) and regex keys. The comparator
 * and operator values are lower-cased in place, so the evaluator reads canonical names.
 */
function checkMatching(t: TestNode | CommandNode, ctx: CheckContext): void {
  let comparator = 'i;ascii-casemap'; // the default (§2.7.3)
  const cmp = t.tags.comparator;
  if (cmp !== undefined && cmp !== true && cmp.kind === 'string') {
    const name = cmp.value.toLowerCase(); // "I;OCTET" is i;octet, as in Pigeonhole
    if (!COMPARATORS.has(name)) {
      ctx.error(cmp.pos, `unknown comparator ${quoted(cmp.value)}: mda knows i;octet, i;ascii-casemap and i;ascii-numeric`);
      return;
    }
    if (name === 'i;ascii-numeric' && !ctx.caps.has('comparator-i;ascii-numeric')) {
      ctx.error(cmp.pos, 'the comparator i;ascii-numeric needs require "comparator-i;ascii-numeric" (RFC 5228 §2.7.3)');
      return;
    }
    cmp.value = name;
    comparator = name;
  }
  const match = Object.keys(t.tags).find((k) => Object.hasOwn(MATCH_TYPE_TAGS, k));
  const rel = match === 'value' || match === 'count' ? t.tags[match] : undefined;
  if (rel !== undefined && rel !== true && rel.kind === 'string') {
    const op = rel.value.toLowerCase(); // ABNF literals are case-insensitive (RFC 5234 §2.3)
    if (!RELATIONS.has(op)) {
      ctx.error(rel.pos, `:${match} needs a relational operator, one of "gt", "ge", "lt", "le", "eq", "ne"; found ${quoted(rel.value)} (RFC 5231)`);
      return;
    }
    rel.value = op;
  }
  if (comparator === 'i;ascii-numeric' && (match === 'contains' || match === 'matches' || match === 'regex')) {
    const tag = t.args.find((a) => a.kind === 'tag' && a.name === match)!;
    ctx.error(tag.pos, `:${match} cannot be used with the i;ascii-numeric comparator, which has no substring match (RFC 5228 §2.7.1)`);
    return;
  }
  if (match === 'regex') {
    // the key list is the last positional argument of every test that matches
    for (const key of strings(t.positional[t.positional.length - 1])) {
      if (!isConstant(key.value, ctx.caps)) continue;
      const r = ctx.compileRegex(key.value, comparator === 'i;ascii-casemap');
      if (!r.ok) ctx.error(key.pos, `invalid regular expression ${quoted(key.value)}: ${r.why}`);
    }
  }
}

/**
 * RFC 5229 §3-§4: a variable name is an identifier; "set" cannot assign match variables (${1})
 * and mda has no namespaces. Also for the variable names of RFC 5232 (settable: not for hasflag).
 */
function checkVariableName(v: StringLit, settable: boolean, ctx: CheckContext): void {
  const s = v.value;
  if (IDENTIFIER.test(s)) return;
  if (/^[0-9]+$/.test(s)) {
    if (settable) ctx.error(v.pos, `cannot assign to the match variable \${${s}}: only :matches and :regex set it (RFC 5229 §3)`);
    return;
  }
  if (isGlobalNamespaceName(s, ctx.caps)) return; // RFC 6609 §5
  if (s.split('.').every((seg) => IDENTIFIER.test(seg))) {
    ctx.error(v.pos, `variable namespaces are not supported: ${quoted(s)} (RFC 5229 §3)`);
    return;
  }
  ctx.error(v.pos, `invalid variable name ${quoted(s)}: letters, digits and _, not starting with a digit (RFC 5229 §3)`);
}

/** A light check of a constant outbound address (RFC 5228 §2.4.2.3); the full parse happens when it is used. */
function checkAddress(a: StringLit, what: string, ctx: CheckContext): void {
  if (!isConstant(a.value, ctx.caps)) return;
  const problem = addressProblem(a.value);
  if (problem) ctx.error(a.pos, `${what} ${quoted(a.value)} is not a valid address: ${problem} (RFC 5228 §2.4.2.3)`);
}

/** Why s cannot be a sieve-address (addr-spec, or phrase <addr-spec>), for the obvious cases; else null. */
export function addressProblem(s: string): string | null {
  let a = s.trim();
  const angle = /<([^<>]*)>$/.exec(a);
  if (angle) a = angle[1]!.trim();
  if (a === '') return 'it is empty';
  const at = a.lastIndexOf('@');
  if (at < 0) return 'it has no @domain';
  if (at === 0) return 'nothing before the @';
  if (at === a.length - 1) return 'no domain after the @';
  if (/[\s<>]/.test(a.slice(at + 1))) return 'the domain contains a space or angle bracket';
  return null;
}
