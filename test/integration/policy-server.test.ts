/**
 * `mda policy` as the built CLI, over a unix socket and 127.0.0.1 port 0, speaking
 * Postfix's SMTP access policy delegation protocol (SMTPD_POLICY_README) as smtpd does:
 * unknown → 550 5.1.1, over quota → 552 5.2.2 (bounce) / 452 4.2.2 (defer, after a
 * SIGHUP reload), known and under quota → DUNNO, another domain, an alias, postmaster and
 * protocol_state=DATA → DUNNO, several requests on one connection, broken requests that
 * leave the server serving, a FIFO maildirsize (DUNNO, no hang), SIGTERM → exit 0.
 * As root the server switches to `nobody` (virtual users: [users] entries only);
 * otherwise it runs as the test's user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineClient, type LineClient } from '../helpers/line-client.js';
import { MDA, tempDir } from '../helpers/run-mda.js';

const isRoot = process.geteuid?.() === 0;
const nobody = (() => {
  try {
    const f = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))?.split(':');
    return f ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
  } catch {
    return undefined;
  }
})();
// As root the server must switch to a user: without one, root in system mode needs a system account per [users] entry.
const runAs = isRoot ? nobody : undefined;

let dir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];
const clients: LineClient[] = [];

beforeEach(() => ({ dir, cleanup } = tempDir('mda-policy-cli-')));
afterEach(() => {
  for (const c of clients.splice(0)) c.socket.destroy();
  for (const ch of children.splice(0)) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
  cleanup();
});

interface Server {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(args: string[]): Server {
  const child = spawn(process.execPath, [MDA, 'policy', ...args], { env: { PATH: process.env.PATH, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, output: () => output, exited };
}

async function logMatch(log: string, re: RegExp, waitMs = 15_000): Promise<RegExpExecArray> {
  for (let waited = 0; ; waited += 50) {
    const now = existsSync(log) ? readFileSync(log, 'utf8') : '';
    const m = re.exec(now);
    if (m) return m;
    if (waited > waitMs) throw new Error(`log never matched ${re}; log: ${now}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function client(to: string | number): Promise<LineClient> {
  const c = await lineClient(to);
  clients.push(c);
  return c;
}

/** A request as smtpd sends it at RCPT (SMTPD_POLICY_README), with `extra` attributes on top. */
function request(recipient: string, extra: Record<string, string> = {}): string {
  const attrs = {
    request: 'smtpd_access_policy', protocol_state: 'RCPT', protocol_name: 'ESMTP', client_address: '192.0.2.7',
    client_name: 'mx.example.net', helo_name: 'mx.example.net', sender: 'someone@example.net', recipient,
    recipient_count: '0', queue_id: '', instance: '1f2e.5f3a.1', size: '2000', ...extra,
  };
  return Object.entries(attrs).map(([k, v]) => `${k}=${v}\n`).join('') + '\n';
}

/** One answer: exactly one action= line, then the empty line. */
async function answer(c: LineClient): Promise<string> {
  const action = await c.line();
  expect(await c.line()).toBe('');
  return action;
}

async function ask(c: LineClient, recipient: string, extra: Record<string, string> = {}): Promise<string> {
  c.send(request(recipient, extra));
  return answer(c);
}

/** A Maildir owned by the uid the server runs as, with `maildirsize` as given. */
function maildir(name: string, maildirsize?: string): string {
  const md = join(dir, name, 'Maildir');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(md, sub), { recursive: true });
  if (maildirsize !== undefined) writeFileSync(join(md, 'maildirsize'), maildirsize);
  return md;
}

function writeConfig(cfg: string, log: string, overQuota: 'bounce' | 'defer', mds: Record<string, string>): void {
  writeFileSync(
    cfg,
    `[log]\ntarget = "file:${log}"\n[delivery]\ndomains = ["example.org"]\n[quota]\nover_quota = "${overQuota}"\n` +
      `[policy]\n${runAs ? 'user = "nobody"\n' : ''}aliases = ["${join(dir, 'aliases')}"]\nrequest_timeout = "5s"\n` +
      Object.entries(mds).map(([u, md]) => `[users.${u}]\nmaildir = "${md}"\n`).join(''),
  );
}

describe.skipIf(isRoot && !nobody)('mda policy (built CLI)', () => {
  it('SMTPD_POLICY_README: one action= line and an empty line per request on a reused connection; 550/552/452/DUNNO; SIGTERM exits 0', async () => {
    const cfg = join(dir, 'mda.toml');
    const log = join(dir, 'mda.log');
    const sock = join(dir, 'policy.sock');
    writeFileSync(join(dir, 'aliases'), '# local aliases\npostmaster: root\nsales: bob,\n  alice\n"help desk": bob\n');
    // alice is at her limit (Maildir++ header 1000 bytes, 1000 used); bob has room.
    const mds = { alice: maildir('alice', '1000S\n1000 3\n'), bob: maildir('bob', '100000S\n1000 3\n'), fifo: maildir('fifo') };
    execFileSync('mkfifo', [join(mds.fifo, 'maildirsize')]);
    if (runAs) {
      chmodSync(dir, 0o755); // nobody must reach the Maildirs and alias file
      for (const u of ['alice', 'bob', 'fifo']) execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, join(dir, u)]);
    }
    writeConfig(cfg, log, 'bounce', mds);
    const s = startServer(['--listen', `unix:${sock}`, '--listen', '127.0.0.1:0', '--config', cfg]);
    const port = Number((await logMatch(log, /listening on 127\.0\.0\.1:(\d+)/))[1]);
    await logMatch(log, new RegExp(`listening on unix:${sock}`));

    const c = await client(sock);
    expect(await ask(c, 'nosuchuser-xq@example.org')).toBe('action=550 5.1.1 User unknown');
    expect(await ask(c, 'alice@example.org')).toBe('action=552 5.2.2 Mailbox full');
    expect(await ask(c, 'Alice+lists@EXAMPLE.org')).toBe('action=552 5.2.2 Mailbox full');
    expect(await ask(c, 'alice@example.org', { size: '' })).toBe('action=552 5.2.2 Mailbox full'); // already full: no SIZE needed
    expect(await ask(c, 'bob@example.org')).toBe('action=DUNNO');
    expect(await ask(c, 'nosuchuser-xq@other.example')).toBe('action=DUNNO'); // not in [delivery] domains
    expect(await ask(c, 'sales@example.org')).toBe('action=DUNNO'); // an alias
    expect(await ask(c, '"help desk"@example.org')).toBe('action=DUNNO'); // a quoted alias name
    expect(await ask(c, 'postmaster@example.org')).toBe('action=DUNNO');
    expect(await ask(c, 'nosuchuser-xq@example.org', { protocol_state: 'DATA' })).toBe('action=DUNNO');
    expect(await ask(c, 'alice@example.org', { protocol_state: 'END-OF-MESSAGE' })).toBe('action=DUNNO');
    // A FIFO as maildirsize is refused unread (O_NONBLOCK, regular files only): DUNNO, not a hang.
    expect(await ask(c, 'fifo@example.org')).toBe('action=DUNNO');

    // Pipelined: three requests in one write, three answers in order.
    c.send(request('nosuchuser-xq@example.org') + request('bob@example.org') + request('alice@example.org'));
    expect([await answer(c), await answer(c), await answer(c)]).toEqual(['action=550 5.1.1 User unknown', 'action=DUNNO', 'action=552 5.2.2 Mailbox full']);

    // The same over TCP.
    const t = await client(port);
    expect(await ask(t, 'nosuchuser-xq@example.org')).toBe('action=550 5.1.1 User unknown');
    expect(await ask(t, 'bob@example.org')).toBe('action=DUNNO');

    // [quota] over_quota = "defer" after a SIGHUP reload: 452 4.2.2 on the same connection.
    writeConfig(cfg, log, 'defer', mds);
    s.child.kill('SIGHUP');
    await logMatch(log, /SIGHUP: configuration reloaded/);
    expect(await ask(c, 'alice@example.org')).toBe('action=452 4.2.2 Mailbox full');

    s.child.kill('SIGTERM');
    expect(await c.closed()).toBeDefined();
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.output()).toBe('');
    // As nobody the server cannot remove root's socket file from a root-owned directory; as itself it does.
    if (!runAs) expect(existsSync(sock)).toBe(false);
  });

  it('broken requests: a line without "=" gets DUNNO and the connection goes on; an oversized line or a request without its empty line only ends that connection', async () => {
    const cfg = join(dir, 'mda.toml');
    const log = join(dir, 'mda.log');
    const sock = join(dir, 'policy.sock');
    writeFileSync(join(dir, 'aliases'), '');
    if (runAs) chmodSync(dir, 0o755);
    writeConfig(cfg, log, 'bounce', {});
    const s = startServer(['--listen', `unix:${sock}`, '--config', cfg]);
    await logMatch(log, /listening on unix:/);

    const a = await client(sock);
    a.send('request=smtpd_access_policy\nthis is not an attribute\n\n');
    expect(await answer(a)).toBe('action=DUNNO');
    expect(await ask(a, 'nosuchuser-xq@example.org')).toBe('action=550 5.1.1 User unknown');

    const big = await client(sock);
    big.send(`request=smtpd_access_policy\nccert_subject=${'x'.repeat(20_000)}\n\n`);
    expect(await big.closed()).not.toContain('action=5'); // closed, never refused

    const half = await client(sock);
    half.send('request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=nosuchuser-xq@example.org\n');
    half.end(); // no empty line: no request, no answer
    expect(await half.closed()).toBe('');

    const b = await client(sock);
    expect(await ask(b, 'nosuchuser-xq@example.org')).toBe('action=550 5.1.1 User unknown');
    expect(await ask(a, 'nosuchuser-xq@example.org')).toBe('action=550 5.1.1 User unknown');
    expect(readFileSync(log, 'utf8')).toContain('DUNNO for a broken request');

    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
  });

  it('a bad [policy] at start: exit 78 with file:line', async () => {
    const cfg = join(dir, 'bad.toml');
    writeFileSync(cfg, '[log]\ntarget = "none"\n[policy]\nrequest_timeout = "10m"\n');
    const s = startServer(['--listen', `unix:${join(dir, 's')}`, '--config', cfg]);
    expect(await s.exited).toEqual({ code: 78, signal: null });
    expect(s.output()).toContain(`mda policy: ${cfg}:4: policy.request_timeout: must be between 100ms and 60s`);
  });
});

