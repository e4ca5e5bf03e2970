/**
 * The include extension at run time (RFC 6609): include (§3.2) with :personal/:global, :once and
 * :optional, return (§3.3), and global variables (§3.4, §5). The scripts come from the
 * IncludeSource the caller gives in SieveEnv (pipeline/sieve-include-load.ts reads them before
 * evaluation); a missing, uncompilable or recursive include is a runtime error (§3.2), which
 * cancels every action (RFC 5228 §2.10.6). Must not: read files. Pure.
 */
import type { CommandNode, Script } from './ast.js';
import { asciiLower } from './comparators.js';
import { hasTag, runtimeError, type Ctx, type ScriptState } from './evaluate-context.js';
import { VariableScope } from './variables.js';

export type IncludeLocation = 'personal' | 'global';
/** What the loader found under one name: the compiled script, nothing, or why it cannot run. */
export type IncludeLookup = { kind: 'script'; script: Script } | { kind: 'missing' } | { kind: 'error'; message: string };
export type IncludeSource = (location: IncludeLocation, name: string) => IncludeLookup;

/** Pigeonhole's defaults (sieve_include_max_nesting_depth, sieve_include_max_includes). */
export const MAX_INCLUDE_DEPTH = 10;
export const MAX_INCLUDES = 255;

/** The include state of one top-level script's execution (RFC 6609 §3.1: includes run as one script). */
export interface IncludeRun {
  /** The global variable space (§3.4). */
  readonly globals: VariableScope;
  /** "location:name" of every script included so far (:once, and the MAX_INCLUDES bound). */
  readonly included: Set<string>;
  /** The included scripts now running, outermost first (recursion, depth). */
  readonly active: string[];
}

/** Ends the current included script (return, RFC 6609 §3.3); the evaluator turns it into stop in the main script. */
export class Return extends Error {}

/** A script's variables, where the names it declares global (and `global.NAME`, §5) live in the shared space. */
class IncludeScope extends VariableScope {
  constructor(
    private readonly globals: VariableScope,
    private readonly declared: ReadonlySet<string>,
  ) {
    super();
  }

  override get(name: string): string | undefined {
    const key = asciiLower(name);
    if (key.startsWith('global.')) return this.globals.get(key.slice('global.'.length)) ?? '';
    return this.declared.has(key) ? this.globals.get(key) : super.get(key);
  }

  override set(name: string, value: string): void {
    const key = asciiLower(name);
    if (key.startsWith('global.')) this.globals.set(key.slice('global.'.length), value);
    else if (this.declared.has(key)) this.globals.set(key, value);
    else super.set(key, value);
  }
}

/**
 * The state a script starts with: a top-level script gets a fresh IncludeRun, an included one
 * shares its includer's. A `global` declaration counts for the whole script, wherever it stands,
 * as Pigeonhole resolves it when compiling.
 */
export function newScriptState(script: Script, run?: IncludeRun): ScriptState {
  const caps = script.capabilities;
  const r = run ?? (caps.has('include') ? { globals: new VariableScope(), included: new Set<string>(), active: [] } : undefined);
  let vars: VariableScope | null = null;
  if (caps.has('variables')) vars = r && caps.has('include') ? new IncludeScope(r.globals, declaredGlobals(script)) : new VariableScope();
  return { script, implicitKeep: true, explicitKeep: null, matchVars: [], flags: [], vars, include: r };
}

/** Whether the running script was included (return ends it) or is the main script (return is stop, §3.3). */
export const isIncluded = (ctx: Ctx): boolean => (ctx.s.include?.active.length ?? 0) > 0;

/**
 * include (RFC 6609 §3.2): runs the named script at this point, with its own local variables and
 * match variables, sharing the keep state and the internal flags variable (one execution, §3.1).
 */
export function runInclude(ctx: Ctx, c: CommandNode, runScript: (inner: Ctx, commands: readonly CommandNode[]) => void): void {
  const run = ctx.s.include;
  const arg = c.positional[0];
  if (!run || arg?.kind !== 'string') throw runtimeError(ctx, c, 'not a valid include (the validator should have refused it)');
  const location: IncludeLocation = hasTag(c, 'global') ? 'global' : 'personal';
  const name = arg.value; // §3.2: never variable-expanded
  const key = `${location}:${name}`;
  const what = `the ${location} script ${JSON.stringify(name)}`;
  // §3.2: :once skips a script already included, and one whose inclusion would be recursive.
  if (hasTag(c, 'once') && (run.included.has(key) || run.active.includes(key))) {
    ctx.chain.trace.push(`include :once ${location} ${JSON.stringify(name)}: already included`);
    return;
  }
  if (run.active.includes(key)) throw runtimeError(ctx, c, `${what} is already running: recursive include (RFC 6609 §3.2)`);
  // Before the lookup: the loader reads no deeper than this, so a deeper script would look missing.
  if (run.active.length >= MAX_INCLUDE_DEPTH) throw runtimeError(ctx, c, `includes nested more than ${MAX_INCLUDE_DEPTH} deep`);
  const found = ctx.chain.env.includes?.(location, name) ?? { kind: 'missing' };
  if (found.kind === 'missing') {
    if (!hasTag(c, 'optional')) throw runtimeError(ctx, c, `${what} does not exist (RFC 6609 §3.2)`);
    ctx.chain.trace.push(`include :optional ${location} ${JSON.stringify(name)}: missing, skipped`);
    return;
  }
  if (found.kind === 'error') throw runtimeError(ctx, c, `${what} cannot be used: ${found.message}`);
  if (!run.included.has(key) && run.included.size >= MAX_INCLUDES) throw runtimeError(ctx, c, `more than ${MAX_INCLUDES} scripts included`);
  run.included.add(key);
  ctx.chain.trace.push(`include ${location} ${JSON.stringify(name)}`);
  const inner = newScriptState(found.script, run);
  inner.implicitKeep = ctx.s.implicitKeep;
  inner.explicitKeep = ctx.s.explicitKeep;
  inner.flags = ctx.s.flags;
  run.active.push(key);
  try {
    runScript({ chain: ctx.chain, s: inner }, found.script.commands);
  } catch (err) {
    if (!(err instanceof Return)) throw err;
    ctx.chain.trace.push('return');
  } finally {
    run.active.pop();
    // Even when stop ends everything: the main script's state is what the plan is built from.
    ctx.s.implicitKeep = inner.implicitKeep;
    ctx.s.explicitKeep = inner.explicitKeep;
    ctx.s.flags = inner.flags;
  }
}

/** The names a script declares with `global` (lower-cased: variable names are case-insensitive). */
function declaredGlobals(script: Script): Set<string> {
  const names = new Set<string>();
  const todo: CommandNode[] = [...script.commands];
  for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
    if (c.block) todo.push(...c.block);
    if (c.name !== 'global') continue;
    const a = c.positional[0];
    for (const s of a?.kind === 'string' ? [a] : a?.kind === 'list' ? a.items : []) names.add(asciiLower(s.value));
  }
  return names;
}
