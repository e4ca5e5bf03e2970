/**
 * `mda sieve test --script FILE [--sender A] [--recipient B] [--now DATE] [--config FILE] < message`:
 * runs scripts over a message exactly as delivery would evaluate them and
 * prints the plan (folders with flags, redirects, vacation, discard) and the
 * trace of tests and actions. Stores nothing, sends nothing, writes no state.
 * For people: exits 0 (plan printed), 1 (compile or runtime error), 2 (usage, unreadable file).
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { findBlankLine } from '../../message/head-splitter.js';
import { loadIncludes } from '../../pipeline/sieve-include-load.js';
import { formatSieveError, type Script } from '../../sieve/ast.js';
import { compileSieve } from '../../sieve/compile.js';
import { evaluateSieve } from '../../sieve/evaluate.js';
import { countBareLf, parseHeaderBlock, SieveMessage } from '../../sieve/message.js';
import type { SievePlan } from '../../sieve/plan.js';
import { decodeEncodedWords } from '../../sieve/rfc2047.js';
import { scanValues } from '../../sieve/scan-values.js';
import { localOffset } from '../../sieve/evaluate-context.js';
import { parseDateTime } from '../../sieve/date-parse.js';
import { currentSite } from '../../sieve/site.js';
import { userScriptPath } from '../../sieve/script-path.js';
import { storeTargets } from '../../sieve/targets.js';
import type { IncludeSource } from '../../sieve/evaluate-include.js';

export const describe = 'Run Sieve scripts over a message on stdin and print what would happen (nothing is stored or sent)';

export interface SieveTestArgs {
  script: string[];
  sender?: string;
  recipient?: string;
  config?: string;
  /** Run as if it were this instant (what currentdate sees, RFC 5260 §5): RFC 3339 or RFC 5322; default now. */
  now?: string;
}

export interface SieveTestIo {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  stdin: AsyncIterable<Buffer | string>;
}

const processIo = (): SieveTestIo => ({ out: process.stdout, err: process.stderr, env: process.env, stdin: process.stdin });

export async function sieveTest(args: SieveTestArgs, io: SieveTestIo = processIo()): Promise<number> {
  const nowMs = args.now === undefined ? Date.now() : parseNow(args.now); // the run's one clock reading
  if (nowMs === null) {
    io.err.write(`--now ${JSON.stringify(args.now)}: not a date-time; write 2026-12-24T09:30:00+01:00 or "Thu, 24 Dec 2026 09:30:00 +0100"\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(findConfigPath(args.config, io.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`${err.message}\n`);
    return 2;
  }
  const scripts: Script[] = [];
  let failed = false;
  for (const file of args.script) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      io.err.write(`${file}: cannot read: ${(err as Error).message}\n`);
      return 2;
    }
    const compiled = compileSieve(text, file, { maxScriptBytes: config.sieve.maxScriptSize });
    if ('errors' in compiled) {
      for (const e of compiled.errors) io.err.write(`${formatSieveError(e)}\n`);
      failed = true;
    } else scripts.push(compiled.script);
  }
  if (failed) return 1;
  // include (RFC 6609): the running user's [sieve] dir (~ = $HOME) and [sieve] global_dir, as delivery reads them.
  const home = io.env.HOME;
  const included = await loadIncludes(scripts, {
    personal: home ? userScriptPath(config.sieve.dir, io.env.USER ?? '', home) : undefined,
    global: config.sieve.globalDir || undefined,
    maxScriptSize: config.sieve.maxScriptSize,
    globalRootOnly: false,
  });

  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  let raw = Buffer.concat(chunks);
  let fromLine: string | undefined;
  if (raw.subarray(0, 5).toString('latin1') === 'From ') {
    const lf = raw.indexOf(0x0a);
    fromLine = raw.subarray(0, lf < 0 ? raw.length : lf).toString('utf8');
    raw = lf < 0 ? Buffer.alloc(0) : raw.subarray(lf + 1);
  }
  const message = sieveMessage(raw);
  const returnPath = message.values('return-path')[0]?.replace(/^<|>$/g, '');
  const sender = args.sender ?? returnPath ?? fromLine?.split(/\s+/)[1]?.replace(/^MAILER-DAEMON$/, '') ?? '';
  const recipient = args.recipient ?? message.values('delivered-to')[0] ?? '';

  const plan = testPlan(scripts, message, { sender, recipient, config, nowMs, includes: included?.source });
  io.out.write(render(plan, sender, recipient));
  return plan.errors.length ? 1 : 0;
}

/** sieveMessage: the message (From_ line already removed) as Sieve tests see it. */
export function sieveMessage(raw: Buffer): SieveMessage {
  const end = findBlankLine(raw, true);
  const fields = parseHeaderBlock(end < 0 ? raw : raw.subarray(0, end));
  return new SieveMessage(fields, raw.length + countBareLf(raw, -1), decodeEncodedWords, raw);
}

export interface TestPlanInput {
  sender: string;
  recipient: string;
  config: Config;
  nowMs: number;
  includes?: IncludeSource;
}

/**
 * testPlan evaluates scripts as delivery would, with what a test cannot know held fixed: no
 * scanner verdicts (only trusted X-Spam headers), no folder exists, no duplicate was seen.
 * Shared with `mda deliver --dry-run`, which prints the same plan.
 */
export function testPlan(scripts: Script[], message: SieveMessage, i: TestPlanInput): SievePlan {
  return evaluateSieve(scripts, message, {
    sender: i.sender, recipient: i.recipient, originalRecipient: i.recipient,
    scan: scanValues({ verdicts: [], scannersConfigured: false, trustScanHeaders: i.config.sieve.trustScanHeaders, header: (n) => message.values(n) }),
    mailboxExists: () => false,
    duplicateSeen: () => false,
    limits: i.config.sieve,
    clock: { nowMs: i.nowMs, localOffset },
    site: currentSite(),
    includes: i.includes,
  }, { traceTests: true });
}

/** RFC 3339 date-time (as currentdate "iso8601" prints it) or an RFC 5322 one; null if neither. */
export function parseNow(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/.exec(text.trim());
  if (!m) return parseDateTime(text)?.ms ?? null;
  const [, y, mo, d, h, mi, sec, sign, zh, zm] = m.map(Number);
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d! || h! > 23 || mi! > 59 || sec! > 59 || (zm ?? 0) > 59) return null;
  const offset = m[7] === undefined ? 0 : (m[7] === '-' ? -1 : 1) * (zh! * 60 + zm!);
  return ms - offset * 60_000;
}

/** The plan for people: the trace, then one line per effect. */
export function render(plan: SievePlan, sender: string, recipient: string, keepFolder = ''): string {
  const lines = [`envelope: from <${sender}> to <${recipient}>`, 'trace:'];
  for (const t of plan.trace) lines.push(`  ${t}`);
  lines.push('result:');
  for (const e of plan.errors) lines.push(`  runtime error: ${e}`);
  const targets = storeTargets({ plan, keepFolder, spamFolder: '' });
  const stores = targets.ok ? targets.targets : [];
  for (const t of stores) {
    const implicit = plan.keep?.implicit && t.dir === '' ? ' (implicit keep)' : '';
    lines.push(`  store in ${t.mailbox}${implicit}${t.flags.length ? ` flags ${t.flags.join(' ')}` : ''}${t.create && t.dir !== '' ? ' (create)' : ''}${t.header ? ' (header edited)' : ''}`);
  }
  for (const r of plan.redirects) lines.push(`  redirect to <${r.address}>${r.header ? ' (header edited)' : ''}`);
  const v = plan.vacation;
  if (v) lines.push(`  vacation reply to <${v.to}> from ${v.from ?? '(recipient)'} subject ${JSON.stringify(v.subject)}, at most once per ${v.periodSeconds}s`);
  for (const n of plan.notifications) lines.push(`  notify <${n.recipient}> from <${n.sender}> subject ${JSON.stringify(n.subject)}${n.importance !== '2' ? ` importance ${n.importance}` : ''}`);
  if (stores.length === 0 && plan.redirects.length === 0) lines.push('  discard');
  if (plan.duplicates.length) lines.push(`  remember ${plan.duplicates.length} duplicate id(s)`);
  return lines.join('\n') + '\n';
}
