/**
 * Quota and locks through the real `mda deliver`: over-quota outcomes, many
 * concurrent deliveries against a quota that admits only some of them, and the
 * honeypot incident (a full mailbox plus a stuck lock holder never makes a
 * delivery wait past its lock timeout, and no lock is left behind).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { scanMaildir } from '../../src/quota/store.js';
import { startHolder } from '../helpers/lock-holder.js';
import { QUIET_CONFIG, listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let md: string;
let cfg: string;
beforeEach(() => {
  t = tempDir();
  md = join(t.dir, 'Maildir');
  cfg = join(t.dir, 'mda.toml');
});
afterEach(() => t.cleanup());

const config = (extra: string) => writeFileSync(cfg, QUIET_CONFIG + extra);
const msg = (i: number, pad = 0) => `From a@b  Sat Nov 21 23:21:04 2026\nMessage-ID: <q${i}@t>\nSubject: ${i}\n\n${'x'.repeat(pad)}\n`;
const deliver = (input: string, args: string[] = []) => runMda(['deliver', '--config', cfg, '--maildir', md, ...args], { input });
const locksLeft = () => (existsSync(md) ? readdirSync(md).filter((f) => f.includes('.lock')) : []);
const usageOnDisk = () => parseMaildirsize(readFileSync(join(md, 'maildirsize')));

describe('quota outcomes', () => {
  it('bounce (default): 77 with "5.2.2 Mailbox full" once the storage limit is reached', async () => {
    config('[quota]\nstorage = "1K"\n');
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await deliver(msg(i, 300)));
    const codes = results.map((r) => r.code);
    expect(codes.slice(0, 2)).toEqual([0, 0]);
    expect(codes.filter((c) => c === 0).length).toBe(listDir(join(md, 'new')).length);
    const refused = results.filter((r) => r.code !== 0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.code).toBe(77);
      expect(r.output).toMatch(/^5\.2\.2 Mailbox full/);
    }
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(usageOnDisk()).toMatchObject({ bytes: (await scanMaildir(md)).bytes, count: listDir(join(md, 'new')).length });
    expect(locksLeft()).toEqual([]);
  });

  it('defer: 75 with "4.2.2 Mailbox full"', async () => {
    config('[quota]\nmessages = 1\nover_quota = "defer"\n');
    expect((await deliver(msg(1))).code).toBe(0);
    const r = await deliver(msg(2));
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.2\.2 Mailbox full/);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });

  it('grace raises the storage limit for the last messages', async () => {
    config('[quota]\nstorage = "400"\ngrace = "1K"\n');
    const size = Buffer.byteLength(msg(0, 300)) - 'From a@b  Sat Nov 21 23:21:04 2026\n'.length;
    const fit = Math.floor((400 + 1024) / size);
    const codes = [];
    for (let i = 0; i <= fit; i++) codes.push((await deliver(msg(i, 300))).code);
    expect(fit).toBeGreaterThan(1);
    expect(codes).toEqual([...Array(fit).fill(0), 77]);
  });

  it('per-user limits override the global one', async () => {
    config('[quota]\nmessages = 1\n[users.root]\nquota = { messages = 3 }\n');
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await runMda(['deliver', '--config', cfg, '--maildir', md, '--user', 'root'], { input: msg(i) })).code);
    expect(codes).toEqual([0, 0, 0, 77]);
  });

  it('maildirsize records the limits and one line per delivery; a folder counts too', async () => {
    config('[quota]\nstorage = "1M"\nmessages = 100\n');
    await deliver(msg(1));
    await deliver(msg(2), ['--folder', 'Work']);
    const lines = readFileSync(join(md, 'maildirsize'), 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^1048576S,100C$/);
    expect(usageOnDisk()).toMatchObject({ count: 2, bytes: msg(1).length - 35 + msg(2).length - 35 });
  });

  it('unlimited quota writes no maildirsize but keeps an existing one current', async () => {
    config('');
    await deliver(msg(1));
    expect(existsSync(join(md, 'maildirsize'))).toBe(false);
    writeFileSync(join(md, 'maildirsize'), '0S,0C\n0 0\n');
    await deliver(msg(2));
    expect(usageOnDisk()).toMatchObject({ count: 1 });
  });
});

describe('when to recount, whose quota, which folders (issue 9)', () => {
  const mkMaildir = (dir = md) => {
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
  };
  const bodySize = (m: string) => Buffer.byteLength(m) - 'From a@b  Sat Nov 21 23:21:04 2026\n'.length;

  it('Courier maildirquota.c docheckquota: sums of two lines that leave no room are recounted before a 5.2.2 (finding 3)', async () => {
    config('[quota]\nstorage = "1000"\n');
    mkMaildir();
    writeFileSync(join(md, 'maildirsize'), '1000S\n900 1\n50 1\n'); // the Maildir is empty
    const m = msg(1, 60);
    expect(bodySize(m)).toBeGreaterThan(50);
    const r = await deliver(m);
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(usageOnDisk()).toMatchObject({ bytes: bodySize(m), count: 1 });
  });

  it('Courier maildirquota.c docheckquota: a fresh one-line file that leaves no room is believed (5.2.2 without a recount)', async () => {
    config('[quota]\nstorage = "1000"\n');
    mkMaildir();
    writeFileSync(join(md, 'maildirsize'), '1000S\n950 1\n');
    const r = await deliver(msg(1, 200));
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.2\.2 /);
    expect(readFileSync(join(md, 'maildirsize'), 'latin1')).toBe('1000S\n950 1\n');
  });

  it('Maildir++: with no mda quota the maildirsize header is the quota, enforced and never rewritten (finding 11)', async () => {
    config('');
    mkMaildir();
    writeFileSync(join(md, 'maildirsize'), '3C,100000S\n'); // as `maildirmake -q` leaves it: a header, no usage
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await deliver(msg(i))).code);
    expect(codes).toEqual([0, 0, 0, 77]);
    const text = readFileSync(join(md, 'maildirsize'), 'latin1');
    expect(text.split('\n')[0]).toBe('3C,100000S');
    expect(usageOnDisk()).toMatchObject({ count: 3 });
  });

  it('a FIFO planted as maildirsize never blocks a delivery: it is replaced by a recounted regular file', async () => {
    config('[quota]\nmessages = 10\n');
    mkMaildir();
    execFileSync('mkfifo', [join(md, 'maildirsize')]);
    const r = await deliver(msg(1), ['--deadline', '3s']);
    expect(r.elapsedMs).toBeLessThan(6000);
    expect([r.code, r.output]).toEqual([0, '']);
    expect(lstatSync(join(md, 'maildirsize')).isFile()).toBe(true);
    expect(usageOnDisk()).toMatchObject({ count: 1 });
    expect(locksLeft()).toEqual([]);
  });

  it('Dovecot counts every folder by default: .Trash counts (finding 12)', async () => {
    config('[quota]\nmessages = 2\n');
    mkMaildir();
    mkMaildir(join(md, '.Trash'));
    for (const n of [1, 2]) writeFileSync(join(md, '.Trash', 'cur', `17000000${n}.M1P1.host,S=5:2,ST`), 'xxxxx');
    const r = await deliver(msg(1));
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.2\.2 /);
    expect(usageOnDisk()).toMatchObject({ bytes: 10, count: 2 });
  });

  it('[quota] ignore_folders = ["Trash"] leaves .Trash out, as Courier does by default (finding 12)', async () => {
    config('[quota]\nmessages = 2\nignore_folders = ["Trash"]\n');
    mkMaildir();
    mkMaildir(join(md, '.Trash'));
    for (const n of [1, 2]) writeFileSync(join(md, '.Trash', 'cur', `17000000${n}.M1P1.host,S=5:2,ST`), 'xxxxx');
    const r = await deliver(msg(1));
    expect(r.code).toBe(0);
    expect(usageOnDisk()).toMatchObject({ count: 1 });
  });
});

describe('concurrency', () => {
  it('200 deliveries from 8 parallel senders, quota admits 120: exactly 120 stored, none lost or doubled', { timeout: 120_000 }, async () => {
    config('[quota]\nmessages = 120\n[locks]\ntimeout = "60s"\n');
    let next = 0;
    const codes = new Map<number, number | null>();
    const sender = async () => {
      while (next < 200) {
        const i = next++;
        codes.set(i, (await deliver(msg(i, i % 50), [], )).code);
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    const stored = new Map<string, number>();
    for (const f of listDir(join(md, 'new'))) {
      const id = /Message-ID: <q(\d+)@t>/.exec(readFileSync(join(md, 'new', f), 'utf8'))![1]!;
      stored.set(id, (stored.get(id) ?? 0) + 1);
    }
    const ok = [...codes].filter(([, c]) => c === 0).map(([i]) => String(i));
    expect(ok).toHaveLength(120);
    expect([...stored.keys()].sort()).toEqual(ok.sort());
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    expect([...codes.values()].filter((c) => c !== 0).every((c) => c === 77)).toBe(true);
    const fresh = await scanMaildir(md);
    expect(usageOnDisk()).toMatchObject({ bytes: fresh.bytes, count: fresh.count });
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(locksLeft()).toEqual([]);
  });
});

describe('the honeypot incident', () => {
  it('a full mailbox with a stuck lock holder: every delivery gives up within its lock timeout, no lock left', { timeout: 60_000 }, async () => {
    config('[quota]\nmessages = 1\n[locks]\ntimeout = "500ms"\nstale = "60s"\n');
    expect((await deliver(msg(0))).code).toBe(0); // now full
    const holder = await startHolder({ sets: [[{ kind: 'commit', path: join(md, 'mda-commit.lock') }]], holdMs: 60_000 });
    await holder.held;
    holder.child.kill('SIGSTOP'); // the stuck batch job
    try {
      const waits = await Promise.all(Array.from({ length: 6 }, (_, i) => deliver(msg(i + 1))));
      for (const r of waits) {
        expect(r.code).toBe(75);
        expect(r.output).toMatch(/^4\.2\.0 mailbox busy/);
        expect(r.elapsedMs).toBeLessThan(500 + 4_000); // its own timeout plus process start, never the holder's time
      }
    } finally {
      holder.child.kill('SIGKILL');
      await holder.done;
    }
    // the killed holder's lock is taken over once stale; then the full mailbox bounces at once
    config('[quota]\nmessages = 1\n[locks]\ntimeout = "5s"\nstale = "1s"\n');
    const after = await deliver(msg(9));
    expect(after.code).toBe(77);
    expect(after.output).toMatch(/^5\.2\.2 Mailbox full/);
    expect(locksLeft()).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
});
