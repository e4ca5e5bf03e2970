/**
 * Helpers for evaluator tests: compile a script (parse + validate, failing
 * the test on errors), build a SieveMessage from message text, a default
 * environment, and run the chain.
 */
import type { Script } from '../../src/sieve/ast.js';
import { formatSieveError } from '../../src/sieve/ast.js';
import { evaluateSieve, type SieveEnv } from '../../src/sieve/evaluate.js';
import { countBareLf, parseHeaderBlock, SieveMessage } from '../../src/sieve/message.js';
import { compileSieve } from '../../src/sieve/compile.js';
import type { SievePlan } from '../../src/sieve/plan.js';
import { decodeEncodedWords } from '../../src/sieve/rfc2047.js';

export function compile(text: string, source = 'test.sieve'): Script {
  const v = compileSieve(text, source);
  if ('errors' in v) throw new Error(v.errors.map(formatSieveError).join('\n'));
  return v.script;
}

/** A message from text; header and body split at the first blank line; size per RFC 5228 §5.9. */
export function message(text: string): SieveMessage {
  const raw = Buffer.from(text, 'utf8');
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  return new SieveMessage(parseHeaderBlock(Buffer.from(head, 'utf8')), raw.length + countBareLf(raw, -1), decodeEncodedWords, raw);
}

export const DEFAULT_MESSAGE = [
  'Return-Path: <alice@example.org>',
  'From: Alice <alice@example.org>',
  'To: Bob <bob@example.test>',
  'Subject: Hello there',
  'Message-ID: <m1@example.org>',
  '',
  'Hi Bob.',
  '',
].join('\n');

export function env(over: Partial<SieveEnv> = {}): SieveEnv {
  return {
    sender: 'alice@example.org',
    recipient: 'bob@example.test',
    originalRecipient: 'bob@example.test',
    scan: { spam: '0', spamPercent: undefined, virus: '0' },
    mailboxExists: () => false,
    duplicateSeen: () => false,
    limits: { maxRedirects: 4, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 1_000_000 },
    // a fixed instant and zone (UTC), so date tests do not depend on when or where they run
    clock: { nowMs: Date.UTC(2026, 11, 24, 9, 30, 15), localOffset: () => 0 },
    site: { host: 'mx1.example.test', version: '0.1.0' },
    ...over,
  };
}

/** Runs one script (or a chain) over a message. */
export function run(scripts: string | string[], msg: string = DEFAULT_MESSAGE, e: Partial<SieveEnv> = {}): SievePlan {
  const list = (Array.isArray(scripts) ? scripts : [scripts]).map((s, i) => compile(s, `s${i}.sieve`));
  return evaluateSieve(list, message(msg), env(e), { traceTests: true });
}

/** The plan's effect in one line per target, for compact assertions. */
export function targets(p: SievePlan): string[] {
  const out: string[] = [];
  if (p.keep) out.push(`keep${p.keep.implicit ? ' (implicit)' : ''}${p.keep.flags.length ? ` [${p.keep.flags.join(' ')}]` : ''}`);
  for (const f of p.fileinto) out.push(`fileinto ${f.mailbox}${f.flags.length ? ` [${f.flags.join(' ')}]` : ''}${f.create ? ' create' : ''}`);
  for (const r of p.redirects) out.push(`redirect ${r.address}`);
  if (p.vacation) out.push(`vacation ${p.vacation.to}`);
  return out;
}
