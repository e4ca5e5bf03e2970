/**
 * Evaluates the environment test (RFC 5183 §4), the ihave test (RFC 5463 §4) and the error
 * command (RFC 5463 §5). Must not: look anything up (SieveEnv.site holds the host facts). Pure.
 */
import type { CommandNode, TestNode } from './ast.js';
import { environmentItem } from './environment.js';
import { matchSpec, runtimeError, str, strings, type Ctx } from './evaluate-context.js';
import { matchValues } from './match.js';
import { SUPPORTED_CAPABILITIES } from './specs.js';

/** RFC 5183 §4: an item mda does not know makes the test false, whatever the match type. */
export function evalEnvironment(ctx: Ctx, t: TestNode): boolean {
  const value = environmentItem(str(ctx, t.positional[0]), ctx.chain.env.site);
  if (value === undefined) return false;
  const r = matchValues([value], strings(ctx, t.positional[1]), matchSpec(ctx, t), ctx.chain.budget, { captures: ctx.s.vars !== null });
  if (r.matched && r.captures && ctx.s.vars) ctx.s.matchVars = r.captures;
  return r.matched;
}

/** RFC 5463 §4: true when every named capability could be required here. */
export function evalIhave(ctx: Ctx, t: TestNode): boolean {
  return strings(ctx, t.positional[0]).every((cap) => SUPPORTED_CAPABILITIES.has(cap));
}

/**
 * RFC 5463 §5: `error` ends the script with a runtime error carrying the script's message; like
 * every runtime error, it cancels all actions and keeps the message (RFC 5228 §2.10.6), and the
 * message is logged.
 */
export function runErrorCommand(ctx: Ctx, c: CommandNode): never {
  throw runtimeError(ctx, c, str(ctx, c.positional[0]));
}
