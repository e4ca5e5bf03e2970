/**
 * The world one .svtest file runs in (Pigeonhole's src/testsuite/testsuite-*.c):
 * the current message and envelope, the in-memory mail store and outgoing SMTP
 * queue that test_result_execute fills, the compiled script of
 * test_script_compile, its errors for test_error, and each `test` block's
 * outcome. Also: the result's actions as Pigeonhole names them, read from a
 * plan's trace. Must not: touch the file system or evaluate Sieve (that is
 * testsuite-extension.ts).
 */
import type { Script } from '../../src/sieve/ast.js';
import type { SieveEnv } from '../../src/sieve/evaluate.js';
import { mailboxDir } from '../../src/sieve/mailbox-name.js';
import type { SievePlan } from '../../src/sieve/plan.js';
import { env, message } from '../helpers/sieve.js';

/** Pigeonhole's default testsuite message (testsuite-message.c). */
export const DEFAULT_TESTSUITE_MESSAGE = 'From: sender@example.com\nTo: recipient@example.org\nSubject: Frop!\n\nFriep!\n';

export interface Stored {
  data: string;
  flags: string[];
}

export interface Sent {
  from: string;
  to: string;
  data: string;
}

export interface TestOutcome {
  name: string;
  ok: boolean;
  reason?: string;
}

/** test_fail: ends the current `test` block (or the file, outside one). */
export class TestFailure extends Error {}

export class TestsuiteState {
  messageText = DEFAULT_TESTSUITE_MESSAGE;
  readonly env: SieveEnv;
  /** By Maildir++ directory (mailboxDir: '' is INBOX), so names mda stores in one folder are one mailbox. */
  readonly mailboxes = new Map<string, Stored[]>([['', []]]);
  readonly smtp: Sent[] = [];
  compiled: Script | null = null;
  readonly binaries = new Map<string, Script>();
  /** Errors of the last test_script_compile / test_script_run (test_error). */
  errors: string[] = [];
  readonly config = new Map<string, string>();
  /** Plans of test_script_run / test_multiscript since the last reset, not yet executed. */
  results: SievePlan[] = [];
  /** Plans already executed (their actions still count for test_result_action until a reset). */
  executed: SievePlan[] = [];
  /** Where the inline actions of the .svtest script start in its trace (moved by test_result_reset). */
  traceOffset = 0;
  readonly outcomes: TestOutcome[] = [];
  /** Testsuite commands the file used that the harness does not implement. */
  readonly unimplemented = new Set<string>();

  constructor(readonly dir: string) {
    this.env = env({ mailboxExists: (name) => this.mailboxes.has(boxKey(name)) });
    this.env.limits = { ...this.env.limits, maxCpuSteps: 50_000_000 };
    this.setMessage(DEFAULT_TESTSUITE_MESSAGE);
  }

  /** test_set "message": the envelope follows the header (testsuite-message.c: Return-Path, Sender, From; Envelope-To, To). */
  setMessage(text: string, envelope?: { from: string; to: string }): void {
    this.messageText = text;
    const m = this.message();
    const first = (...names: string[]) => {
      for (const n of names) {
        const v = m.values(n)[0];
        const addr = v === undefined ? undefined : (/<([^>]*)>/.exec(v)?.[1] ?? v.trim());
        if (addr !== undefined && addr !== '') return addr;
      }
      return undefined;
    };
    this.env.sender = envelope?.from ?? first('return-path', 'sender', 'from') ?? 'sender@example.com';
    this.env.recipient = envelope?.to ?? first('envelope-to', 'to') ?? 'recipient@example.org';
    this.env.originalRecipient = this.env.recipient;
  }

  message() {
    return message(this.messageText);
  }

  store(mailbox: string, data: string, flags: string[]): void {
    const key = boxKey(mailbox);
    const box = this.mailboxes.get(key) ?? [];
    box.push({ data, flags });
    this.mailboxes.set(key, box);
  }
}

/** The mailbox a name stores into: mda's Maildir++ directory for it (INBOX in any case, and the `INBOX.` prefix, as mda maps them). */
export function boxKey(name: string): string {
  const d = mailboxDir(name);
  return d.ok ? d.dir : `refused:${name}`;
}

/**
 * The result's actions in order, named as Pigeonhole's testsuite names them
 * (keep, store, redirect, vacation, notify, discard), from the action lines the
 * evaluator traces; duplicates merged as the plan merged them.
 */
export function resultActions(trace: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let inboxAt = 0;
  for (const line of trace) {
    let key: string | undefined;
    let name: string | undefined;
    if (line === 'discard') key = 'discard';
    else if (line === 'keep' || line.startsWith('keep flags')) [key, name] = ['inbox', 'keep'];
    else if (/^fileinto "inbox"/i.test(line)) [key, name] = ['inbox', 'store'];
    else if (line.startsWith('fileinto "')) key = `store ${/^fileinto ("(?:[^"\\]|\\.)*")/.exec(line)?.[1]}`;
    else if (line.startsWith('redirect to <') && !line.includes(' skipped')) key = `redirect ${line.slice(12).split('>')[0]}`;
    else if (line.startsWith('vacation to <')) key = 'vacation';
    // One Pigeonhole action per notify command; the trace has a line per recipient, so the lines
    // of one command are told apart by their subject (two commands with one subject count once).
    else if (/^notify to <[^>]*> subject /.test(line)) key = `notify ${line.replace(/^notify to <[^>]*> /, '')}`;
    // Pigeonhole: keep and a store into INBOX are duplicates, reported as the keep (multiscript/conflicts.svtest)
    if (key === 'inbox' && name === 'keep' && seen.has(key)) out[out.indexOf('store', inboxAt)] = 'keep';
    if (key === undefined || seen.has(key)) continue;
    if (key === 'inbox') inboxAt = out.length;
    seen.add(key);
    out.push(name ?? key.split(' ')[0]!);
  }
  return out;
}
