/**
 * evaluateSieve: runs the chain (admin before-scripts, the user's, admin after-scripts) over one message
 * into a SievePlan; nothing is stored or sent here. Pigeonhole's multiscript rules: each script starts
 * with implicit keep, `stop` ends only its script, the next runs only while keep is in effect. A runtime
 * error cancels every action of the chain (RFC 5228 §2.10.6). Pure given its inputs.
 */
import type { CommandNode, Script, TestNode } from './ast.js';
import { runAction } from './evaluate-actions.js';
import type { ChainState, Ctx, EvaluatorExtension, ScriptState, SieveEnv } from './evaluate-context.js';
import { breakLoop, extractText, forEveryPart } from './evaluate-mime.js';
import { editedCopiesError } from './evaluate-editheader.js';
import { isIncluded, newScriptState, Return, runInclude } from './evaluate-include.js';
import { describeTest, evalTest } from './evaluate-tests.js';
import { SieveRuntimeError } from './errors.js';
import { CountingBudget } from './match.js';
import type { SieveMessage } from './message.js';
import { implicitKeepPlan, type FileTarget, type SievePlan } from './plan.js';

export type { EvaluatorExtension, SieveEnv } from './evaluate-context.js';

export interface EvaluateOptions {
  /** Record every if/elsif test and its result (for `mda sieve test`); actions are always traced. */
  traceTests?: boolean;
  /** Test-only extra commands and tests (the Pigeonhole testsuite harness); see EvaluatorExtension. */
  extension?: EvaluatorExtension;
}

/** Ends the current script (stop, RFC 5228 §3.3). */
class Stop extends Error {}

export function evaluateSieve(scripts: readonly Script[], message: SieveMessage, env: SieveEnv, opts: EvaluateOptions = {}): SievePlan {
  const chain: ChainState = {
    message, env, budget: new CountingBudget(env.limits.maxCpuSteps), trace: [], extension: opts.extension,
    fileinto: new Map(), redirects: new Map(), vacation: null, vacationIn: new Set(), duplicates: new Map(), notifications: new Map(),
  };
  let last: ScriptState | undefined;
  try {
    for (const [i, script] of scripts.entries()) {
      const s: ScriptState = newScriptState(script);
      last = s;
      if (scripts.length > 1) chain.trace.push(`script ${script.source}`);
      try {
        runBlock({ chain, s }, script.commands, opts);
      } catch (err) {
        if (!(err instanceof Stop)) throw err;
        chain.trace.push('stop');
      }
      const keepInEffect = s.implicitKeep || s.explicitKeep !== null;
      if (!keepInEffect && i < scripts.length - 1) {
        chain.trace.push(`keep cancelled: the scripts after ${script.source} do not run`);
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof SieveRuntimeError)) throw err;
    chain.trace.push(`runtime error: ${err.message}; every action cancelled, implicit keep`);
    return implicitKeepPlan([err.message], chain.trace);
  }
  const plan = buildPlan(chain, last);
  const tooMany = editedCopiesError(plan); // RFC 5228 §2.10.6: all or nothing
  if (tooMany) {
    chain.trace.push(`runtime error: ${tooMany}; every action cancelled, implicit keep`);
    return implicitKeepPlan([tooMany], chain.trace);
  }
  return plan;
}

function runBlock(ctx: Ctx, commands: readonly CommandNode[], opts: EvaluateOptions): void {
  // if/elsif/else are separate commands; `taken` says whether the chain they form already ran a branch.
  let taken = false;
  for (const c of commands) {
    ctx.chain.budget.spend(1);
    switch (c.name) {
      case 'require':
        break;
      case 'if':
      case 'elsif': {
        if (c.name === 'elsif' && taken) continue; // an earlier branch ran: skip, and so will a following else
        const yes = evalTest(ctx, c.test!);
        if (opts.traceTests) ctx.chain.trace.push(`${at(ctx, c)} ${c.name} ${describeTest(ctx, c.test!)} → ${yes}`);
        taken = yes;
        if (yes) runBlock(ctx, c.block ?? [], opts);
        continue; // keeps `taken` for a following elsif/else
      }
      case 'else':
        if (!taken) {
          if (opts.traceTests) ctx.chain.trace.push(`${at(ctx, c)} else`);
          runBlock(ctx, c.block ?? [], opts);
        }
        break;
      case 'stop':
        throw new Stop();
      case 'foreverypart': // RFC 5703 §3
        forEveryPart(ctx, c, (inner) => runBlock(inner, c.block ?? [], opts));
        break;
      case 'break':
        throw breakLoop(ctx, c);
      case 'extracttext':
        extractText(ctx, c);
        break;
      case 'include': // RFC 6609 (evaluate-include.ts)
        runInclude(ctx, c, (inner, block) => runBlock(inner, block, opts));
        break;
      case 'return': // RFC 6609 §3.3: ends an included script; in the main script it is stop
        if (isIncluded(ctx)) throw new Return();
        throw new Stop();
      case 'global': // RFC 6609 §3.4: declared for the whole script when it starts (newScriptState)
        break;
      default:
        if (!ctx.chain.extension?.command(ctx, c, (block) => runBlock(ctx, block, opts))) runAction(ctx, c);
    }
    taken = false;
  }
}

const at = (ctx: Ctx, c: CommandNode): string => `${ctx.s.script.source}:${c.pos.line}:`;

/**
 * The plan: the last script that ran decides keep (explicit keep with its
 * flags, else the implicit keep with the internal flags variable, RFC 5232
 * §3); fileinto "INBOX" and an explicit keep are one copy (the last one's flags, RFC 5232 §3).
 */
export function buildPlan(chain: ChainState, last: ScriptState | undefined): SievePlan {
  let keep: SievePlan['keep'] = null;
  if (!last || last.explicitKeep !== null) keep = { flags: last?.explicitKeep ?? [], implicit: !last };
  else if (last.implicitKeep) keep = { flags: [...last.flags], implicit: true };
  // RFC 5293 §3: an explicit keep stores the header of its time, the implicit keep the final one.
  const keepHeader = last?.explicitKeep != null ? last.keepHeader : chain.header;
  if (keep && keepHeader) keep.header = keepHeader;
  const fileinto: FileTarget[] = [];
  for (const t of chain.fileinto.values()) {
    // keep and fileinto "INBOX" already carry the same (last) flags, evaluate-actions.ts: one copy.
    if (t.mailbox !== 'INBOX' || !keep || keep.implicit) fileinto.push(t);
  }
  return {
    keep,
    fileinto,
    redirects: [...chain.redirects].map(([key, address]) => {
      const header = chain.redirectHeaders?.get(key);
      return header ? { address, header } : { address };
    }),
    vacation: chain.vacation?.reply ?? null,
    notifications: [...chain.notifications.values()],
    duplicates: [...chain.duplicates].map(([id, periodSeconds]) => ({ id, periodSeconds })),
    errors: [],
    trace: chain.trace,
  };
}

/** scriptUses: does any script use this test or command anywhere (so the stage reads what it needs, and only then)? */
export function scriptUses(scripts: readonly Script[], name: string): boolean {
  const todo: Array<CommandNode | TestNode> = scripts.flatMap((s) => s.commands);
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    if (n.name === name) return true;
    if (n.kind === 'command') {
      if (n.test) todo.push(n.test);
      if (n.block) todo.push(...n.block);
    } else todo.push(...n.tests);
  }
  return false;
}
