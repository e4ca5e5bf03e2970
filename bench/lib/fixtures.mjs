// bench/lib/fixtures.mjs: owns the on-disk fixtures benchmarks share: a temp
// root (removed on exit unless BENCH_KEEP=1), the ~2 KB test message, Maildirs
// and counting what landed in them, finding tools, and a Postfix-like env, a free loopback port.
import { createServer } from 'node:net';
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** makeTempRoot: a fresh directory, mode 0755 so a tool run as another user can traverse it. */
export function makeTempRoot(label) {
  const dir = mkdtempSync(join(tmpdir(), `mda-bench-${label}-`));
  chmodSync(dir, 0o755);
  if (process.env.BENCH_KEEP !== '1') process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A realistic small message (From_ line as Postfix's pipe F flag adds it), about 2 KB. */
export function writeMessage(dir) {
  const body = Array.from({ length: 14 }, (_, i) =>
    `Line ${String(i + 1).padStart(2, '0')} of the body: the quarterly figures are attached in the shared folder.`,
  ).join('\n');
  const msg = [
    'From alice@example.org  Sat Nov 21 23:21:04 2026',
    'Return-Path: <alice@example.org>',
    'Delivered-To: bob@example.net',
    'Received: from mail.example.org (mail.example.org [192.0.2.25])',
    '\tby mx.example.net (Postfix) with ESMTPS id 4Y7kQm2Xz1z9sWb',
    '\tfor <bob@example.net>; Sat, 21 Nov 2026 23:21:04 +0000 (UTC)',
    'Received: from [198.51.100.7] (unknown [198.51.100.7])',
    '\tby mail.example.org (Postfix) with ESMTPSA id 2C1A1E0041',
    '\tfor <bob@example.net>; Sat, 21 Nov 2026 23:21:02 +0000 (UTC)',
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;',
    '\tt=1795302062; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;',
    '\th=From:To:Subject:Date:Message-ID;',
    '\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSwganVzdCBiZW5jaCBwYWRkaW5nIGZvciBtZGEgYmVu',
    'From: Alice Example <alice@example.org>',
    'To: Bob Example <bob@example.net>',
    'Subject: Quarterly figures',
    'Date: Sat, 21 Nov 2026 23:21:01 +0000',
    'Message-ID: <20261121232101.4711@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    body,
    '',
  ].join('\n');
  const path = join(dir, 'message.eml');
  writeFileSync(path, msg);
  return { path, bytes: Buffer.byteLength(msg) };
}

/** makeMaildir: DIR/{new,cur,tmp}; the steady state a real mailbox is in. */
export function makeMaildir(dir) {
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  return dir;
}

/** countNew: messages in DIR/new (0 if it does not exist yet). */
export function countNew(maildir) {
  try {
    return readdirSync(join(maildir, 'new')).length;
  } catch {
    return 0;
  }
}

/** deliveredOne: a case `check` that wants exactly one more file in new/ than before the run. */
export const deliveredOne = (maildir) => ({
  before: () => countNew(maildir),
  check: (before) => (countNew(maildir) === before + 1 ? null : `exit 0 but no new file in ${maildir}/new`),
});

/** which: an absolute executable path, or null. */
export function which(cmd) {
  const dirs = cmd.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter);
  for (const d of dirs) {
    const p = d ? join(d, cmd) : cmd;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** lookupUser: { uid, gid } from /etc/passwd, or null. */
export function lookupUser(name) {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    if (!line) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

/** postfixEnv: the small environment Postfix's pipe(8) gives a command, not npm's. */
export function postfixEnv(home, extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C', ...extra };
}

/** freePort: a free TCP port on loopback (the kernel's choice; whoever binds it later may find it taken). */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}
