/**
 * What the Sieve evaluator works with: the inputs it is given (SieveEnv),
 * the state of one run of the script chain and of one script, and the
 * helpers that read a validated node's arguments (strings with variables
 * expanded, RFC 5229 §3; match specs, RFC 5228 §2.7). Pure: no I/O.
 */
import type { SieveSettings } from '../config/schema.js';
import type { Arg, CommandNode, Script, TestNode } from './ast.js';
import { SieveRuntimeError } from './errors.js';
import type { Comparator, MatchSpec, MatchType, Relation, StepBudget } from './match-api.js';
import type { HeaderSnapshot } from './header-edits.js';
import type { SieveMessage } from './message.js';
import type { FileTarget, Notification, VacationReply } from './plan.js';
import type { MimeEntity } from './mime-tree.js';
import type { SieveSite } from './environment.js';
import type { IncludeRun, IncludeSource } from './evaluate-include.js';
import type { ScanValues } from './scan-values.js';
import { expandVariables, type VariableScope } from './variables.js';

/** Everything the evaluator may know besides the message; it never does I/O itself. */
export interface SieveEnv {
  /** Envelope sender ('' = null sender), final and original recipient. */
  sender: string;
  recipient: string;
  originalRecipient: string;
  /** spamtest / virustest values (scan-values.ts). */
  scan: ScanValues;
  /** mailboxexists (RFC 5490), from a folder list read before evaluation. */
  mailboxExists(name: string): boolean;
  /** Whether a duplicate-tracking key is recorded and live (RFC 7352), from the state read before evaluation. */
  duplicateSeen(key: string): boolean;
  limits: Pick<SieveSettings, 'maxRedirects' | 'vacationMinDays' | 'vacationMaxDays' | 'maxCpuSteps'>;
  /** RFC 5260 (date, currentdate): the one clock reading of this run, and the local time zone. */
  clock: SieveClock;
  /** RFC 5183 environment: host name and version, gathered by the caller. */
  site: SieveSite;
  /** include (RFC 6609): the scripts read before evaluation; absent = every include is missing. */
  includes?: IncludeSource;
}

export interface SieveClock {
  /** The caller reads the clock once per run: every currentdate test sees this instant (ms since the epoch). */
  nowMs: number;
  /** The local zone's offset at an instant, minutes east of UTC (the zone when a test names none, RFC 5260 §4). */
  localOffset(ms: number): number;
}

/** The host's local zone (TZ), for the callers that build a SieveClock; reads no clock. */
export const localOffset = (ms: number): number => -new Date(ms).getTimezoneOffset();

/**
 * Test-only: commands and tests beyond mda's own, run by the Pigeonhole testsuite harness
 * (test/pigeonhole/). Delivery never passes one. `command` returns false for a name it does
 * not own; `test` returns undefined.
 */
export interface EvaluatorExtension {
  command(ctx: Ctx, c: CommandNode, runBlock: (commands: readonly CommandNode[]) => void): boolean;
  test(ctx: Ctx, t: TestNode): boolean | undefined;
}

/** State shared by every script of one chain (before…, user, after…). */
export interface ChainState {
  readonly extension?: EvaluatorExtension;
  /** The message as tests see it now: replaced by every header edit (RFC 5293 §3). */
  message: SieveMessage;
  readonly env: SieveEnv;
  readonly budget: StepBudget;
  readonly trace: string[];
  /** fileinto targets by canonical mailbox name, in the order first named. */
  readonly fileinto: Map<string, FileTarget>;
  /** Redirect addresses, lower-cased key → address as written. */
  readonly redirects: Map<string, string>;
  vacation: { reply: VacationReply; source: string } | null;
  /** Seen vacation commands, even those that decided not to reply (a second one in a script is an error). */
  vacationIn: Set<string>;
  readonly duplicates: Map<string, number>;
  /** enotify notifications by lower-cased recipient: one per recipient per run (RFC 5435 §3, duplicate notifications). */
  readonly notifications: Map<string, Notification>;
  /** RFC 5703: the message's MIME parts, built on first use (evaluate-mime.ts). */
  mime?: MimeEntity[];
  /** editheader (RFC 5293): the header after the edits so far; absent while unedited. */
  header?: HeaderSnapshot;
  /** The header each redirect carries (RFC 5293 §3), by the redirects key; absent = unedited. */
  redirectHeaders?: Map<string, HeaderSnapshot>;
}

/** State of one script's run. */
export interface ScriptState {
  readonly script: Script;
  /** RFC 5228 §2.10.2: true until keep-cancelling actions run. */
  implicitKeep: boolean;
  /** An explicit keep, with its flags. */
  explicitKeep: string[] | null;
  /** RFC 5229: variables, only when the script requires "variables". */
  readonly vars: VariableScope | null;
  matchVars: string[];
  /** RFC 5232 §3: the internal flags variable. */
  flags: string[];
  /** editheader: the header at this script's first explicit keep (RFC 5293 §3); absent = unedited. */
  keepHeader?: HeaderSnapshot;
  /** include (RFC 6609): the execution this script is part of; absent without require "include". */
  include?: IncludeRun;
}

export interface Ctx {
  chain: ChainState;
  s: ScriptState;
  /** RFC 5703 §3: the innermost foreverypart loop running, with its current part. */
  loop?: LoopFrame;
}

export interface LoopFrame {
  readonly part: MimeEntity;
  /** Its :name, '' when unnamed. */
  readonly name: string;
  readonly parent?: LoopFrame;
}

/** A runtime error naming the place in the script (file:line:column). */
export function runtimeError(ctx: Ctx, node: CommandNode | TestNode, message: string): SieveRuntimeError {
  return new SieveRuntimeError(`${ctx.s.script.source}:${node.pos.line}:${node.pos.column}: ${node.name}: ${message}`);
}

/** Expands ${...} when the script requires "variables" (RFC 5229 §3: every string argument is expanded). */
export function expand(ctx: Ctx, text: string): string {
  if (!ctx.s.vars) return text;
  ctx.chain.budget.spend(1 + (text.length >> 6));
  return expandVariables(text, ctx.s.vars.lookup, ctx.s.matchVars);
}

/** A string or string-list argument as expanded strings. */
export function strings(ctx: Ctx, arg: Arg | true | undefined): string[] {
  if (arg === undefined || arg === true) return [];
  if (arg.kind === 'string') return [expand(ctx, arg.value)];
  if (arg.kind === 'list') return arg.items.map((i) => expand(ctx, i.value));
  return [];
}

/** One string argument, expanded ('' when absent). */
export function str(ctx: Ctx, arg: Arg | true | undefined): string {
  return strings(ctx, arg)[0] ?? '';
}

export function num(arg: Arg | true | undefined): number | undefined {
  return arg !== undefined && arg !== true && arg.kind === 'number' ? arg.value : undefined;
}

export const hasTag = (node: CommandNode | TestNode, tag: string): boolean => Object.hasOwn(node.tags, tag);
export const tag = (node: CommandNode | TestNode, name: string): Arg | true | undefined => (hasTag(node, name) ? node.tags[name] : undefined);

const MATCH_TYPES: readonly MatchType[] = ['is', 'contains', 'matches', 'regex', 'value', 'count'];
const RELATIONS: readonly Relation[] = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];
const COMPARATORS: readonly Comparator[] = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'];

/** matchSpec reads MATCH-TYPE (default :is) and COMPARATOR (default i;ascii-casemap), RFC 5228 §2.7.1/§2.7.3. */
export function matchSpec(ctx: Ctx, node: TestNode | CommandNode): MatchSpec {
  const type = MATCH_TYPES.find((t) => hasTag(node, t)) ?? 'is';
  const comparatorName = hasTag(node, 'comparator') ? str(ctx, tag(node, 'comparator')).toLowerCase() : 'i;ascii-casemap';
  const comparator = COMPARATORS.find((c) => c === comparatorName);
  if (!comparator) throw runtimeError(ctx, node, `unknown comparator ${JSON.stringify(comparatorName)}`);
  if (type !== 'value' && type !== 'count') return { type, comparator };
  const relName = str(ctx, tag(node, type)).toLowerCase();
  const relation = RELATIONS.find((r) => r === relName);
  if (!relation) throw runtimeError(ctx, node, `unknown relational operator ${JSON.stringify(relName)} (RFC 5231 §5)`);
  return { type, relation, comparator };
}

/** Sieve flag lists (RFC 5232 §2): space-separated, duplicates dropped; system flags compare case-insensitively. */
export function flagList(items: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    for (const f of item.split(/\s+/)) {
      if (f === '') continue;
      const key = f.startsWith('\\') ? f.toLowerCase() : f;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f.startsWith('\\') ? canonicalSystemFlag(f) : f);
    }
  }
  return out;
}

const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '\\Recent'];
function canonicalSystemFlag(f: string): string {
  return SYSTEM_FLAGS.find((s) => s.toLowerCase() === f.toLowerCase()) ?? f;
}

/** A short description of a node for the trace: `header :contains` etc. */
export function describeNode(node: CommandNode | TestNode): string {
  const tags = Object.keys(node.tags).map((t) => `:${t}`);
  return [node.name, ...tags].join(' ');
}
