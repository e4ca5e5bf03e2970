/**
 * Reads an mbox back with the real programs that share /var/mail with mda:
 * mutt (its curses UI in a pty from script(1), piping every message to a file),
 * Dovecot (`doveadm fetch`, no daemon, mail_uid = the mbox's owner) and Python's
 * mailbox.mbox. Each returns the messages in file order, as bytes, so tests can
 * compare them with mboxoStored(), the mboxo expectation (the contract of
 * issue 15: `>From ` quoting, a missing final newline added, nothing else).
 * Must not: change the mbox it reads (mutt runs with -R; Dovecot reads a copy,
 * because it writes X-IMAPbase/X-UID headers into the mbox it opens).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOVEADM } from './dovecot-tools.js';

/** The recipient of the mbox tests: a real account with a home (mda keeps its state, e.g. the spooled message, in ~/.mda). */
export interface MboxUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** mboxUser - the e2e tests' account (scripts/realstack/up.sh's mdatest), created with useradd -m if missing. */
export function mboxUser(name = 'mdatest'): MboxUser {
  if (spawnSync('id', [name]).status !== 0) spawnSync('useradd', ['-m', name]); // a parallel test may win the race
  const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}
export const MUTT = ['/usr/bin/mutt'].find((p) => existsSync(p));
export { DOVEADM };
export const DOTLOCKFILE = ['/usr/bin/dotlockfile'].find((p) => existsSync(p));
export const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

/** missingReaders - the reader programs this machine lacks ([] when all are there). */
export function missingReaders(): string[] {
  const tools: Record<string, string | undefined> = { mutt: MUTT, doveadm: DOVEADM, dotlockfile: DOTLOCKFILE, python3: PYTHON, script: SCRIPT };
  return Object.entries(tools).filter(([, p]) => !p).map(([n]) => n);
}

/** One message as a reader returned it. */
export interface MboxEntry {
  /** The From_ line without its newline (undefined for Dovecot, which does not show it). */
  fromLine?: string;
  /** The message as stored, without the From_ line and without the separating empty line. */
  message: Buffer;
}

/** mboxoStored - what the mbox must hold for a message (after the From_ line): final newline added, `From ` lines quoted. */
export function mboxoStored(message: Buffer): Buffer {
  let text = message.toString('latin1');
  if (text.length > 0 && !text.endsWith('\n')) text += '\n';
  return Buffer.from(text.replace(/^From /gm, '>From '), 'latin1');
}

/** FROM_LINE - `From SENDER  asctime` (two spaces, e.g. `Tue Dec  8 01:46:07 2026`). */
export const fromLineRe = (sender: string): RegExp =>
  new RegExp(`^From ${sender.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}$`);

/** splitFromLine - a reader's "From_ line + message" bytes as an entry. */
function splitFromLine(bytes: Buffer): MboxEntry {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return { fromLine: bytes.toString('latin1'), message: Buffer.alloc(0) };
  return { fromLine: bytes.subarray(0, nl).toString('latin1'), message: bytes.subarray(nl + 1) };
}

/**
 * readWithMutt - mutt -R opens the mbox, tags every message and pipes each, raw
 * ($pipe_decode unset, $pipe_split set: one command per message, in mailbox
 * order), to a script that saves it as the next numbered file. mutt has no
 * batch mode for reading, so it runs in a pty (script -qec).
 */
export async function readWithMutt(mbox: string, work: string): Promise<MboxEntry[]> {
  if (!MUTT || !SCRIPT) throw new Error('mutt and script(1) are needed');
  const dir = mkdtempSync(join(work, 'mutt-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  const dump = join(dir, 'dump.sh');
  // mutt waits for each command, so counting the files so far numbers them in mailbox order
  writeFileSync(dump, `#!/bin/sh\nn=$(ls "${out}" | wc -l)\ncat > "${out}/$(printf %07d "$n")"\n`, { mode: 0o755 });
  const rc = join(dir, 'muttrc');
  writeFileSync(rc, [
    // an existing $folder: a fresh HOME without ~/Mail makes mutt ask whether to create it
    `set folder=${dir}`, 'set sort=mailbox-order', 'set pipe_split=yes', 'set pipe_decode=no', 'set pipe_sep=""', 'set wait_key=no', 'set quit=yes',
    'set mbox_type=mbox', 'set read_inc=0', 'set mail_check=0',
    `push "<tag-pattern>~A<enter><tag-prefix><pipe-message>${dump}<enter><quit>"`, '',
  ].join('\n'));
  // stdin stays open until mutt is done: script(1) ends the session when its stdin reaches EOF
  const r = await new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
    const child = spawn(SCRIPT, ['-qec', `${MUTT} -n -F ${rc} -R -f ${mbox}`, '/dev/null'], {
      env: { PATH: '/usr/bin:/bin', HOME: dir, TERM: 'vt100', LANG: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr!.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status, signal) => {
      clearTimeout(kill);
      resolve({ status, signal, stdout });
    });
  });
  const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Z]|[\x0e\x0f\x07]/g, '');
  if (r.status !== 0) throw new Error(`mutt (in script) exited ${r.status} ${r.signal ?? ''}; screen: ${screen.slice(-800)}`);
  const entries = readdirSync(out).sort().map((n) => splitFromLine(readFileSync(join(out, n))));
  // the index line mutt drew, e.g. "[Msgs:12 New:12 ...]": an empty mailbox pipes nothing
  const shown = /Msgs:(\d+)/.exec(screen);
  if (entries.length === 0 && !/Msgs:0|No (messages|mailbox)|is empty/.test(screen) && shown?.[1] !== '0') {
    throw new Error(`mutt piped nothing; screen: ${screen.slice(-800)}`);
  }
  return entries;
}

/** readWithPython - Python's mailbox.mbox: every message's bytes with its From_ line (get_bytes(key, from_=True)). */
export function readWithPython(mbox: string): MboxEntry[] {
  if (!PYTHON) throw new Error('python3 is needed');
  const prog = [
    'import base64, json, mailbox, sys',
    'mb = mailbox.mbox(sys.argv[1], create=False)',
    'print(json.dumps([base64.b64encode(mb.get_bytes(k, from_=True)).decode() for k in sorted(mb.keys())]))',
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', prog, mbox], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120_000 });
  return (JSON.parse(out) as string[]).map((b) => splitFromLine(Buffer.from(b, 'base64')));
}

/**
 * dovecotConfig - a daemonless Dovecot config for the mbox `inbox` as INBOX (in
 * memory indexes), mail as `user`; run doveadm with USER and HOME set
 * (no auth daemon: see test/e2e/dovecot-quota.test.ts).
 */
export function dovecotConfig(dir: string, inbox: string, user: MboxUser): string {
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, [
    `base_dir = ${join(dir, 'run')}`, `state_dir = ${join(dir, 'state')}`, 'log_path = /dev/stderr', 'ssl = no', 'protocols =',
    `mail_location = mbox:${join(dir, 'mail')}:INBOX=${inbox}:INDEX=MEMORY`,
    `mail_uid = ${user.uid}`, `mail_gid = ${user.gid}`, `first_valid_uid = ${user.uid}`, `first_valid_gid = ${user.gid}`,
    // Dovecot's defaults, written out: the locks every mbox writer must share
    'mbox_write_locks = dotlock fcntl', 'mbox_read_locks = fcntl', 'mbox_lock_timeout = 5 mins', '',
  ].join('\n'));
  return conf;
}

/** doveadm - run one doveadm command against a dovecotConfig(); stdout as bytes. */
export function doveadm(conf: string, home: string, user: MboxUser, args: string[], timeout = 120_000): Buffer {
  if (!DOVEADM) throw new Error('doveadm is needed');
  const r = spawnSync(DOVEADM, ['-c', conf, ...args], { env: { PATH: '/usr/bin:/bin', USER: user.name, HOME: home }, timeout, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`doveadm ${args.join(' ')} exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
  return r.stdout;
}

/**
 * readWithDovecot - `doveadm fetch 'uid text'` on a copy of the mbox (owned by
 * `user` in a folder of its own). The pager format prints "uid: N\ntext:\n"
 * and the message, and a form feed line between messages.
 */
export function readWithDovecot(mbox: string, work: string, user: MboxUser): MboxEntry[] {
  const dir = mkdtempSync(join(work, 'dovecot-'));
  chmodSync(dir, 0o755);
  const copy = join(dir, 'inbox');
  copyFileSync(mbox, copy);
  mkdirSync(join(dir, 'mail'));
  for (const p of [dir, copy, join(dir, 'mail')]) chownSync(p, user.uid, user.gid);
  const out = doveadm(dovecotConfig(dir, copy, user), dir, user, ['fetch', 'uid text', 'mailbox', 'INBOX', 'all']);
  if (out.length === 0) return [];
  const entries: MboxEntry[] = [];
  for (const chunk of splitBuffer(out, Buffer.from('\f\n'))) {
    const head = /^uid: \d+\ntext:\n/.exec(chunk.subarray(0, 64).toString('latin1'));
    if (!head) throw new Error(`unexpected doveadm fetch output: ${chunk.subarray(0, 200).toString('latin1')}`);
    entries.push({ message: chunk.subarray(head[0].length) });
  }
  return entries;
}

function splitBuffer(buf: Buffer, sep: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = buf.indexOf(sep, from); at >= 0; at = buf.indexOf(sep, from)) {
    parts.push(buf.subarray(from, at));
    from = at + sep.length;
  }
  parts.push(buf.subarray(from));
  return parts;
}

/** messageId - the Message-ID field's value of a stored message ('' if none). */
export function messageId(message: Buffer): string {
  const end = message.indexOf('\n\n');
  const head = message.subarray(0, end < 0 ? message.length : end).toString('latin1');
  return /^Message-ID:\s*(<[^>\n]*>)/im.exec(head)?.[1] ?? '';
}
