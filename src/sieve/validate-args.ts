/**
 * Checks one node's arguments against its spec (specs.ts), the generic part of validation
 * (RFC 5228 §2.6): tags first, each known, enabled, given once and without a conflicting tag,
 * with its argument; then the positional arguments by count and type. Fills node.tags and
 * node.positional. Must not: check values (validate-checks.ts). Pure.
 */
import type { Arg, CommandNode, Pos, TestNode } from './ast.js';
import type { ArgType, NodeSpec } from './specs.js';

/** What the validation steps share: the capabilities in effect and the error sink. */
export interface ValidationContext {
  readonly caps: ReadonlySet<string>;
  error(pos: Pos, message: string): void;
}

const TYPE_WORD: Record<ArgType, string> = { string: 'a string', 'string-list': 'a string list', number: 'a number' };

export function describeArg(a: Arg): string {
  switch (a.kind) {
    case 'tag':
      return `tag :${a.name}`;
    case 'number':
      return `number ${a.value}`;
    case 'string':
      return 'a string';
    case 'list':
      return 'a string list';
  }
}

/** A one-string list is still a list: RFC 5228 types <string> and <string-list> apart (as Pigeonhole does). */
export function fits(a: Arg, type: ArgType): boolean {
  if (type === 'number') return a.kind === 'number';
  if (type === 'string') return a.kind === 'string';
  return a.kind === 'string' || a.kind === 'list';
}

/** "the fileinto command", "the header test" */
export const label = (node: CommandNode | TestNode): string => `the ${node.name} ${node.kind}`;

/** validateArgs fills node.tags and node.positional and reports what does not fit the spec. */
export function validateArgs(node: CommandNode | TestNode, spec: NodeSpec, ctx: ValidationContext): void {
  const tags: Record<string, Arg | true> = {};
  const groups = new Map<string, string>();
  const positional: Arg[] = [];
  // after a tag problem the positional count says nothing new: skip it rather than pile up errors
  let tagTrouble = false;
  const args = node.args;
  for (let i = 0; i < args.length; ) {
    const a = args[i++]!;
    if (a.kind !== 'tag') {
      positional.push(a);
      continue;
    }
    const ts = Object.hasOwn(spec.tags, a.name) ? spec.tags[a.name] : undefined; // not Object.prototype's keys
    // a known tag that takes an argument takes it even when it is misplaced, so the argument is not miscounted
    const takesArg = ts?.arg !== undefined && args[i] !== undefined && args[i]!.kind !== 'tag';
    const v = takesArg ? args[i++]! : undefined;
    if (positional.length > 0) {
      ctx.error(a.pos, `tag :${a.name} must come before the positional arguments of ${label(node)} (RFC 5228 §2.6.2)`);
      tagTrouble = true;
      continue;
    }
    if (!ts) {
      ctx.error(a.pos, `unknown tag :${a.name} for ${label(node)}`);
      tagTrouble = true;
      continue;
    }
    if (ts.capability && !ctx.caps.has(ts.capability)) {
      ctx.error(a.pos, `tag :${a.name} of ${label(node)} needs require "${ts.capability}"`);
      tagTrouble = true;
      continue;
    }
    if (Object.hasOwn(tags, a.name)) {
      ctx.error(a.pos, `tag :${a.name} is given twice (RFC 5228 §2.6)`);
      continue;
    }
    const rival = ts.group ? groups.get(ts.group) : undefined;
    if (rival !== undefined) {
      ctx.error(a.pos, `tag :${a.name} conflicts with :${rival}: only one ${ts.group} is allowed`);
      continue;
    }
    let value: Arg | true = true;
    if (ts.arg) {
      if (v === undefined) {
        const found = args[i] ? `found ${describeArg(args[i]!)}` : 'found nothing';
        ctx.error(a.pos, `tag :${a.name} needs ${TYPE_WORD[ts.arg]} after it, ${found}`);
        tagTrouble = true;
        continue;
      }
      if (!fits(v, ts.arg)) {
        ctx.error(v.pos, `tag :${a.name} needs ${TYPE_WORD[ts.arg]}, found ${describeArg(v)}`);
        continue;
      }
      value = v;
    }
    tags[a.name] = value;
    if (ts.group) groups.set(ts.group, a.name);
  }
  node.tags = tags;
  node.positional = positional;
  checkPositional(node, spec, ctx, tagTrouble);
  if (spec.requiredGroup && !groups.has(spec.requiredGroup) && !tagTrouble) {
    ctx.error(node.pos, `${label(node)} needs one of ${spec.requiredGroup}`);
  }
}

function checkPositional(node: CommandNode | TestNode, spec: NodeSpec, ctx: ValidationContext, tagTrouble: boolean): void {
  const given = node.positional;
  let want = spec.positional;
  if (spec.optionalFirst && given.length === want.length + 1) {
    // RFC 5232 §3-§4: the variable name exists only with the variables extension
    if (!ctx.caps.has(spec.optionalFirst.capability)) {
      ctx.error(given[0]!.pos, `${label(node)} takes a ${spec.optionalFirst.spec.name} only with require "${spec.optionalFirst.capability}"`);
      return;
    }
    want = [spec.optionalFirst.spec, ...want];
  }
  if (spec.optionalLast && given.length === want.length + 1) want = [...want, spec.optionalLast];
  if (given.length !== want.length && !tagTrouble) {
    const names = want.map((p) => p.name).join(', ');
    const wanted = want.length === 0 ? 'no positional arguments' : `${want.length} positional argument${want.length > 1 ? 's' : ''} (${names})`;
    const n = `${given.length} ${given.length === 1 ? 'was' : 'were'} given`;
    if (given.length > want.length) ctx.error(given[want.length]!.pos, `${label(node)} takes ${wanted}, but ${n}`);
    else ctx.error(node.pos, `${label(node)} needs ${wanted}, but ${n}`);
  }
  want.forEach((p, k) => {
    const a = given[k];
    if (a && !fits(a, p.type)) {
      ctx.error(a.pos, `${label(node)} needs ${TYPE_WORD[p.type]} as argument ${k + 1} (${p.name}), found ${describeArg(a)}`);
    }
  });
}
