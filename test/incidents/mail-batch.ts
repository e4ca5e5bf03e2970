/**
 * What the scanner incident replays (clamav, spamc) share: system users with homes under the
 * run dir, a batch of messages sent through the real Postfix by a few concurrent SMTP
 * clients, every queue id's final status read from the maillog (with Postfix's own `delays=`
 * figure for the delivery agent), and the stored messages of a Maildir by token.
 * Must not: assert anything (the replays do) or start or stop the stack.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lookupUser, type UnixUser } from '../helpers/realstack.js';
import { smtpSend } from '../helpers/smtp-send.js';

/** makeSystemUser - useradd a system user whose home (0700, theirs) is dir/home/name. */
export function makeSystemUser(name: string, dir: string): UnixUser {
  removeSystemUser(name); // a run killed before its afterAll
  const home = path.join(dir, 'home', name);
  fs.mkdirSync(path.dirname(home), { recursive: true, mode: 0o755 });
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
  fs.mkdirSync(home, { mode: 0o700 });
  const u = lookupUser(name);
  fs.chownSync(home, u.uid, u.gid);
  return u;
}

export function removeSystemUser(name: string): void {
  spawnSync('userdel', [name], { stdio: 'ignore' });
  spawnSync('groupdel', [name], { stdio: 'ignore' });
}

export const hasUseradd = (): boolean => spawnSync('sh', ['-c', 'command -v useradd && command -v userdel'], { stdio: 'ignore' }).status === 0;

export interface Job {
  /** Unique; the Subject of the message, how the replay finds it in the Maildir. */
  tok: string;
  to: string;
}

export interface Outcome extends Job {
  queueId: string;
  /** sent | deferred | bounced (the first status= line). */
  status: string;
  dsn: string;
  text: string;
  /** Postfix's `delays=a/b/c/d` last part: seconds the delivery agent (mda) took. */
  agentSeconds: number;
  /** Date.now() when the replay first saw the status line. */
  seenAt: number;
}

export const messageFor = (tok: string): string => `From: <alice@sender.test>\nSubject: ${tok}\nMessage-ID: <${tok}@sender.test>\n\nbody of ${tok}\n`;

/** sendBatch - every job by SMTP (one message per connection, `clients` at a time); returns queue ids by token. */
export async function sendBatch(port: number, jobs: Job[], clients = 4): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  let next = 0;
  const client = async () => {
    for (let j = jobs[next++]; j; j = jobs[next++]) {
      const { queueId } = await smtpSend({ port, from: 'alice@sender.test', to: j.to, data: messageFor(j.tok), timeoutMs: 60_000 });
      ids.set(j.tok, queueId);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return ids;
}

const STATUS = /: ([0-9A-Za-z]+): to=<[^>]*>,.* delays=[\d.]+\/[\d.]+\/[\d.]+\/([\d.]+), dsn=([0-9.]+), status=(\w+) \((.*)\)\s*$/;

/**
 * waitOutcomes - poll the maillog (bounded) until every job's queue id has a status= line;
 * throws listing the ones still missing.
 */
export async function waitOutcomes(maillog: string, jobs: Job[], ids: Map<string, string>, timeoutMs = 60_000): Promise<Outcome[]> {
  const seen = new Map<string, Omit<Outcome, keyof Job | 'queueId'>>();
  const wanted = new Set(ids.values());
  const bound = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(maillog) ? fs.readFileSync(maillog, 'utf8') : '';
    const now = Date.now();
    for (const line of text.split('\n')) {
      const m = STATUS.exec(line);
      if (!m || !wanted.has(m[1]!) || seen.has(m[1]!)) continue;
      seen.set(m[1]!, { agentSeconds: Number(m[2]), dsn: m[3]!, status: m[4]!, text: m[5]!, seenAt: now });
    }
    if (seen.size === wanted.size) break;
    if (Date.now() > bound) throw new Error(`no status= line after ${timeoutMs} ms for: ${[...wanted].filter((q) => !seen.has(q)).join(' ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return jobs.map((j) => ({ ...j, queueId: ids.get(j.tok)!, ...seen.get(ids.get(j.tok)!)! }));
}

/** storedByToken - every message in maildir's new/ and cur/, by its Subject (the token). */
export function storedByToken(maildir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const sub of ['new', 'cur']) {
    const d = path.join(maildir, sub);
    for (const n of fs.existsSync(d) ? fs.readdirSync(d) : []) {
      const text = fs.readFileSync(path.join(d, n), 'latin1');
      const tok = /^Subject: (.*)$/m.exec(text)?.[1] ?? '(none)';
      out.set(tok, [...(out.get(tok) ?? []), text]);
    }
  }
  return out;
}

/** scanMark - the X-MDA-Scan value of a stored message, e.g. `clamd=skipped (timeout)`. */
export const scanMark = (text: string): string => /^X-MDA-Scan: (.*)$/m.exec(text)?.[1] ?? '(none)';

/** bounceEvidence - maillog lines that show Postfix bounced or generated a bounce, and files the sink caught. */
export function bounceEvidence(maillog: string, sinkDir: string): string[] {
  const log = fs.existsSync(maillog) ? fs.readFileSync(maillog, 'utf8') : '';
  const lines = log.split('\n').filter((l) => /status=bounced| from=<>, size=|non-delivery notification/.test(l));
  const sink = fs.existsSync(sinkDir) ? fs.readdirSync(sinkDir).filter((n) => n.endsWith('.eml')).map((n) => `sink: ${n}`) : [];
  return [...lines, ...sink];
}
