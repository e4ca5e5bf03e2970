/**
 * Runs Pigeonhole's vnd.dovecot.testsuite commands and tests on top of mda's
 * evaluator, through its test-only EvaluatorExtension hook: `test` blocks,
 * test_fail, test_set, test_message, test_result_* (the result is mda's
 * SievePlan, executed into TestsuiteState's in-memory mail store and SMTP
 * queue), test_script_compile/run, test_multiscript, test_error,
 * test_mailbox_create, test_binary_save/load, test_config_* (recorded only:
 * mda's settings are not Pigeonhole's). Must not: live in src/, or do I/O
 * besides reading the scripts a test names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSieveError, type CommandNode, type Script, type TestNode } from '../../src/sieve/ast.js';
import { compileSieve } from '../../src/sieve/compile.js';
import { buildPlan, evaluateSieve, type EvaluatorExtension } from '../../src/sieve/evaluate.js';
import { hasTag, matchSpec, num, str, strings, tag, type Ctx } from '../../src/sieve/evaluate-context.js';
import { matchValues } from '../../src/sieve/match.js';
import type { SieveMessage } from '../../src/sieve/message.js';
import type { SievePlan } from '../../src/sieve/plan.js';
import { composeHeader, splitRawHeader, type HeaderSnapshot } from '../../src/sieve/header-edits.js';
import { buildNotification } from '../../src/sieve/notify-message.js';
import { buildVacationReply } from '../../src/sieve/vacation-reply.js';
import { TESTSUITE_SPECS } from './testsuite-specs.js';
import { boxKey, resultActions, TestFailure, type TestsuiteState } from './testsuite-state.js';

export function testsuiteExtension(st: TestsuiteState): EvaluatorExtension {
  return {
    command(ctx, c, runBlock) {
      switch (c.name) {
        case 'test':
          runTest(st, str(ctx, c.positional[0]), () => runBlock(c.block ?? []));
          return true;
        case 'test_fail':
          throw new TestFailure(str(ctx, c.positional[0]));
        case 'test_set':
          testSet(st, ctx, str(ctx, c.positional[0]), str(ctx, c.positional[1]));
          return true;
        case 'test_message':
          if (!selectMessage(st, ctx, c)) throw new TestFailure(`test_message: no such message (${describeSource(ctx, c)})`);
          return true;
        case 'test_result_reset':
          resetResult(st, ctx);
          st.smtp.length = 0; // cmd-test-result.c: the command also empties the outgoing queue
          return true;
        case 'test_result_print':
          return true;
        case 'test_mailbox_create': {
          const name = str(ctx, c.positional[0]);
          if (!st.mailboxes.has(boxKey(name))) st.mailboxes.set(boxKey(name), []);
          return true;
        }
        case 'test_config_set':
          st.config.set(str(ctx, c.positional[0]), str(ctx, c.positional[1]));
          return true;
        case 'test_config_unset':
          st.config.delete(str(ctx, c.positional[0]));
          return true;
        case 'test_config_reload':
          return true;
        case 'test_binary_save':
          if (st.compiled) st.binaries.set(str(ctx, c.positional[0]), st.compiled);
          return true;
        case 'test_binary_load': {
          const bin = st.binaries.get(str(ctx, c.positional[0]));
          if (!bin) throw new TestFailure(`test_binary_load: no binary ${str(ctx, c.positional[0])}`);
          st.compiled = bin;
          return true;
        }
        default:
          if (c.name.startsWith('test_')) st.unimplemented.add(c.name);
          return false;
      }
    },
    test(ctx, t) {
      switch (t.name) {
        case 'test_message':
          return selectMessage(st, ctx, t);
        case 'test_script_compile':
          return compileScript(st, str(ctx, t.positional[0]));
        case 'test_script_run':
          // tst-test-script-run.c: the result is reset first unless :append_result
          if (!hasTag(t, 'append_result')) resetResult(st, ctx);
          return runScripts(st, st.compiled ? [st.compiled] : null);
        case 'test_multiscript': {
          resetResult(st, ctx);
          const paths = strings(ctx, t.positional[0]);
          const scripts: Script[] = [];
          for (const p of paths) {
            if (!compileScript(st, p)) return false;
            scripts.push(st.compiled!);
          }
          // tst-test-multiscript.c runs the chain as a delivery would: its result is executed at once
          return runScripts(st, scripts) && executeResult(st, ctx);
        }
        case 'test_error': {
          const index = num(tag(t, 'index')) ?? 0;
          const values = index > 0 ? st.errors.slice(index - 1, index) : st.errors;
          return matchValues(values, strings(ctx, t.positional[0]), matchSpec(ctx, t), ctx.chain.budget).matched;
        }
        case 'test_result_action': {
          const index = num(tag(t, 'index')) ?? 0;
          const actions = currentActions(st, ctx);
          const values = index > 0 ? actions.slice(index - 1, index) : actions;
          return matchValues(values, strings(ctx, t.positional[0]), matchSpec(ctx, t), ctx.chain.budget).matched;
        }
        case 'test_result_execute':
          return executeResult(st, ctx);
        default:
          if (t.name.startsWith('test_')) st.unimplemented.add(t.name);
          return undefined;
      }
    },
  };
}

/** `test "name" { ... }`: test_fail inside ends the block as a failure (testsuite-common.c). */
function runTest(st: TestsuiteState, name: string, body: () => void): void {
  try {
    body();
    st.outcomes.push({ name, ok: true });
  } catch (err) {
    if (!(err instanceof TestFailure)) throw err;
    st.outcomes.push({ name, ok: false, reason: err.message });
  }
}

function testSet(st: TestsuiteState, ctx: Ctx, object: string, value: string): void {
  switch (object) {
    case 'message':
      st.setMessage(value);
      setChainMessage(ctx, st.message());
      ctx.s.flags = []; // a new message has no flags (see selectMessage)
      return;
    case 'envelope.from':
      st.env.sender = value.replace(/^<(.*)>$/, '$1');
      return;
    case 'envelope.to':
      st.env.recipient = value.replace(/^<(.*)>$/, '$1');
      return;
    case 'envelope.orig_to':
      st.env.originalRecipient = value.replace(/^<(.*)>$/, '$1');
      return;
    case 'envelope.auth':
      return; // mda has no authenticated-user notion in Sieve
    default:
      throw new TestFailure(`test_set: unknown object ${JSON.stringify(object)}`);
  }
}

/** The .svtest script's own message changes with test_set / test_message (its chain state is otherwise read-only). */
function setChainMessage(ctx: Ctx, m: SieveMessage): void {
  (ctx.chain as { message: SieveMessage }).message = m;
  // header edits (editheader) were edits of the previous message: a new one starts unedited
  ctx.chain.header = undefined;
  ctx.chain.redirectHeaders = undefined;
  ctx.chain.mime = undefined; // the MIME tree is built once per message (evaluate-mime.ts caches it)
}

function describeSource(ctx: Ctx, n: CommandNode | TestNode): string {
  return hasTag(n, 'smtp') ? `:smtp ${num(n.positional[0])}` : `:folder ${str(ctx, tag(n, 'folder'))} ${num(n.positional[0])}`;
}

function selectMessage(st: TestsuiteState, ctx: Ctx, n: CommandNode | TestNode): boolean {
  const index = num(n.positional[0]) ?? 0;
  if (hasTag(n, 'smtp')) {
    const sent = st.smtp[index];
    if (!sent) return false;
    st.setMessage(sent.data, { from: sent.from, to: sent.to });
  } else {
    const folder = str(ctx, tag(n, 'folder'));
    const stored = st.mailboxes.get(boxKey(folder))?.[index];
    if (!stored) return false;
    st.setMessage(stored.data);
    // Pigeonhole starts the internal flags variable from a stored mail's flags (imap4flags on a mailbox message)
    ctx.s.flags = [...stored.flags];
  }
  setChainMessage(ctx, st.message());
  return true;
}

function compileScript(st: TestsuiteState, path: string): boolean {
  st.compiled = null;
  st.errors = [];
  let text: string;
  try {
    text = readFileSync(join(st.dir, path), 'utf8');
  } catch (err) {
    st.errors = [`${path}: ${(err as Error).message}`];
    return false;
  }
  // Pigeonhole's sub-scripts may use the testsuite's own commands too (test_fail, ...)
  const r = compileSieve(text, path.replace(/^.*\//, ''), { maxErrors: 1000, extraSpecs: TESTSUITE_SPECS });
  if ('errors' in r) {
    st.errors = r.errors.map(formatSieveError);
    return false;
  }
  st.compiled = r.script;
  return true;
}

function runScripts(st: TestsuiteState, scripts: Script[] | null): boolean {
  st.errors = [];
  if (!scripts) {
    st.errors = ['testsuite: trying to run script, but no script compiled yet'];
    return false;
  }
  const plan = evaluateSieve(scripts, st.message(), { ...st.env }, { extension: testsuiteExtension(st) });
  st.errors = plan.errors;
  st.results.push(plan);
  return plan.errors.length === 0;
}

/** The .svtest script's own actions since the last reset, as a plan. */
function inlinePlan(st: TestsuiteState, ctx: Ctx): SievePlan {
  const plan = buildPlan(ctx.chain, ctx.s);
  return { ...plan, trace: plan.trace.slice(st.traceOffset) };
}

function hasInlineActions(st: TestsuiteState, ctx: Ctx): boolean {
  return resultActions(ctx.chain.trace.slice(st.traceOffset)).length > 0;
}

function currentActions(st: TestsuiteState, ctx: Ctx): string[] {
  // one result in Pigeonhole: duplicates across the scripts run since the reset merge too
  const traces = [...st.executed, ...st.results].flatMap((p) => p.trace);
  return resultActions(hasInlineActions(st, ctx) ? [...traces, ...ctx.chain.trace.slice(st.traceOffset)] : traces);
}

function resetResult(st: TestsuiteState, ctx: Ctx): void {
  st.results = [];
  st.executed = [];
  const { chain, s } = ctx;
  chain.fileinto.clear();
  chain.redirects.clear();
  chain.duplicates.clear();
  chain.notifications.clear();
  chain.redirectHeaders?.clear();
  chain.vacation = null;
  chain.vacationIn.clear();
  s.implicitKeep = true;
  s.explicitKeep = null;
  st.traceOffset = chain.trace.length;
}

/**
 * test_result_execute: every pending plan (the scripts run since the last
 * reset, else the .svtest's own actions with its implicit keep) is carried out
 * into the mail store and the SMTP queue. A plan with runtime errors fails.
 */
function executeResult(st: TestsuiteState, ctx: Ctx): boolean {
  const pending = st.results.length > 0 ? st.results : [inlinePlan(st, ctx)];
  const inline = st.results.length === 0;
  let ok = true;
  const data = st.messageText;
  // one result in Pigeonhole: INBOX is stored once, the implicit keep only if no plan cancelled it
  const keeps = pending.map((p) => p.keep);
  const explicit = keeps.filter((k) => k !== null && !k.implicit);
  const kept = explicit.length > 0 ? explicit : keeps.every((k) => k?.implicit) ? keeps : [];
  if (kept.length > 0) st.store('INBOX', withHeader(data, kept[kept.length - 1]?.header), [...new Set(kept.flatMap((k) => k?.flags ?? []))]);
  for (const plan of pending) {
    if (plan.errors.length > 0) {
      st.errors = plan.errors;
      ok = false;
      continue;
    }
    for (const f of plan.fileinto) st.store(f.mailbox, withHeader(data, f.header), f.flags);
    for (const r of plan.redirects) st.smtp.push({ from: st.env.sender, to: r.address, data: withHeader(data, r.header) });
    if (plan.vacation) {
      const reply = buildVacationReply(plan.vacation, { now: new Date(), messageId: `<testsuite.${st.smtp.length}@mda.test>` });
      st.smtp.push({ from: '', to: plan.vacation.to, data: reply.toString('utf8') });
    }
    // enotify (RFC 5435): mda sends these after the commit (pipeline/sieve-notify.ts); here they join the queue
    for (const n of plan.notifications) {
      const mail = buildNotification(n, { now: new Date(), messageId: `<testsuite.${st.smtp.length}@mda.test>` });
      st.smtp.push({ from: n.sender, to: n.recipient, data: mail.toString('utf8') });
    }
  }
  st.executed.push(...st.results);
  st.results = [];
  if (inline) {
    // executed once: the same actions must not be carried out again by a later execute
    const offset = ctx.chain.trace.length;
    resetResult(st, ctx);
    st.traceOffset = offset;
  }
  return ok;
}

/** The message as an action stored or sent it: with the header it had then (editheader, RFC 5293 §3), as sieve-edited.ts builds copies. */
function withHeader(data: string, h: HeaderSnapshot | undefined): string {
  if (!h) return data;
  const m = /\r?\n\r?\n/.exec(data);
  const headEnd = m ? m.index + m[0].indexOf('\n') + 1 : data.length;
  const head = Buffer.from(data.slice(0, headEnd), 'utf8');
  const eol = data.includes('\r\n') ? '\r\n' : '\n';
  return composeHeader(splitRawHeader(head), h, eol).toString('utf8') + data.slice(headEnd);
}
