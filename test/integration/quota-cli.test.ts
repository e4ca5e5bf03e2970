/**
 * `mda quota report` and `mda quota recalc` through the built binary, on temp
 * Maildirs of real files named `...,S=<n>` with maildirsize files that are
 * fresh, stale, missing or wrong. Needs a built dist/ (`npm run build`).
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/run-mda.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** mda runs `node bin/mda quota ...` with stdout and stderr kept apart. */
const mda = async (args: string[]): Promise<Run> => {
  const { code, stdout, stderr } = await runCli(['quota', ...args]);
  return { code, stdout, stderr };
};

let t: ReturnType<typeof tempDir>;
let mail: string;
let conf: string;
let glob: string;
const md = (user: string): string => join(mail, user, 'Maildir');
const sizeFile = (user: string): string => readFileSync(join(md(user), 'maildirsize'), 'latin1');

/** maildir creates USER's Maildir with one real file per size (content = size bytes, name says ,S=size). */
function maildir(user: string, sizes: number[], sizefile?: string, folder = ''): string {
  const dir = join(md(user), folder);
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
  sizes.forEach((n, i) => {
    const sub = i % 2 ? 'cur' : 'new';
    writeFileSync(join(dir, sub, `1700000000.M${i}P1Q${i}.host,S=${n}${sub === 'cur' ? ':2,S' : ''}`), 'x'.repeat(n));
  });
  if (sizefile !== undefined) writeFileSync(join(md(user), 'maildirsize'), sizefile);
  return md(user);
}

interface JsonRow {
  user: string;
  maildir: string;
  bytes: number | null;
  storageLimit: number | null;
  storagePercent: number | null;
  messages: number | null;
  messageLimit: number | null;
  messagePercent: number | null;
  status: string;
}
const byUser = (rows: JsonRow[]): Record<string, JsonRow> => Object.fromEntries(rows.map((r) => [r.user, r]));

/** snapshot: every path under root with its type, size, mtime and content digest (to prove nothing was written). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string): void => {
    const st = lstatSync(p);
    out[p] = `${st.mode} ${st.size} ${st.mtimeMs} ${st.isFile() ? readFileSync(p, 'latin1') : ''}`;
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
  return out;
}

/** parseCsv: a strict RFC 4180 reader (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"' && field === '') (quoted = true), i++;
    else if (c === ',') row.push(field), (field = ''), i++;
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), (i += 2);
    else if (c === '\n' || c === '"') throw new Error(`not RFC 4180 at offset ${i}`);
    else (field += c), i++;
  }
  if (field !== '' || row.length) throw new Error('last line not terminated by CRLF');
  return rows;
}

beforeEach(() => {
  t = tempDir('mda-quota-cli-');
  mail = join(t.dir, 'mail');
  glob = join(mail, '*', 'Maildir');
  // 10,000 bytes / 10 messages globally; alice has her own 20,000 bytes.
  conf = join(t.dir, 'mda.toml');
  writeFileSync(
    conf,
    [
      '[log]',
      'target = "none"',
      '[quota]',
      'storage = 10000',
      'messages = 10',
      `[users.alice]`,
      `maildir = "${md('alice')}"`,
      'quota = { storage = 20000 }',
      `[users."zed,\\"the\\" ghost"]`,
      `maildir = "${join(t.dir, 'nowhere', 'Maildir')}"`,
      '',
    ].join('\n'),
  );
  chmodSync(conf, 0o644);
  maildir('alice', [1000, 2000, 3000], '20000S,10C\n6000 3\n'); // fresh
  maildir('bob', [4000, 5000]); // no maildirsize: recalculated
  maildir('carol', [9500], '10000S,10C\n9500 1\n'); // fresh, 95 %
  maildir('dave', [100, 200], '999S\n1 1\n'); // written for another limit: recalculated
  maildir('dave', [50], undefined, '.Sent'); // folders count
  maildir('dave', [7777], undefined, '.Trash'); // .Trash too (as Dovecot), unless [quota] ignore_folders
});
afterEach(() => t.cleanup());

describe('mda quota report', () => {
  it('reports every user of the config and the glob with correct numbers (json)', async () => {
    const r = await mda(['report', '--config', conf, '--maildir-glob', glob, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    expect(rows.map((x) => x.user)).toEqual(['alice', 'bob', 'carol', 'dave', 'zed,"the" ghost']);
    const u = byUser(rows);
    expect(u.alice).toEqual({
      user: 'alice',
      maildir: md('alice'),
      bytes: 6000,
      storageLimit: 20000,
      storagePercent: 30,
      messages: 3,
      messageLimit: 10,
      messagePercent: 30,
      status: 'ok',
    });
    expect(u.bob).toMatchObject({ bytes: 9000, storageLimit: 10000, storagePercent: 90, messages: 2, status: 'warn' });
    expect(u.carol).toMatchObject({ bytes: 9500, storagePercent: 95, messages: 1, status: 'warn' });
    expect(u.dave).toMatchObject({ bytes: 8127, messages: 4, messagePercent: 40, status: 'ok' });
    expect(u['zed,"the" ghost']).toMatchObject({ bytes: null, storageLimit: 10000, messages: null, status: 'missing' });
  });

  it('recounts a missing or stale maildirsize without writing anything (root from cron), trusts a fresh one', async () => {
    writeFileSync(join(md('alice'), 'maildirsize'), '20000S,10C\n6000 3\n1 1\n'); // fresh, even if not the files' sum
    const before = snapshot(mail);
    const r = await mda(['report', '--config', conf, '--maildir-glob', glob, '--format', 'json']);
    expect(r.code).toBe(0);
    const u = byUser(JSON.parse(r.stdout) as JsonRow[]);
    expect(u.alice).toMatchObject({ bytes: 6001, messages: 4 });
    expect(u.bob).toMatchObject({ bytes: 9000, messages: 2 }); // no maildirsize: counted
    expect(u.dave).toMatchObject({ bytes: 8127, messages: 4 }); // written for another limit: counted
    expect(snapshot(mail)).toEqual(before); // no maildirsize, lock, tmp/ file or mtime changed
  });

  it('Maildir++: with no mda quota the maildirsize header is the quota; report shows it and rewrites nothing', async () => {
    const bare = join(t.dir, 'bare.toml');
    writeFileSync(bare, '[log]\ntarget = "none"\n');
    writeFileSync(join(md('carol'), 'maildirsize'), '1000S,3C\n     0     0\n  9500 1\n'); // as Courier appends
    const before = snapshot(mail);
    const r = await mda(['report', '--config', bare, '--maildir-glob', glob, '--user', 'carol', '--user', 'bob', '--format', 'json']);
    expect(r.code).toBe(0);
    const u = byUser(JSON.parse(r.stdout) as JsonRow[]);
    expect(u.carol).toMatchObject({ bytes: 9500, storageLimit: 1000, messages: 1, messageLimit: 3, status: 'over' });
    expect(u.bob).toMatchObject({ bytes: 9000, storageLimit: null, messageLimit: null }); // no header, no quota
    expect(snapshot(mail)).toEqual(before);

    const rc = await mda(['recalc', '--config', bare, '--maildir-glob', glob, '--user', 'carol']);
    expect(rc.code).toBe(0);
    expect(sizeFile('carol')).toBe('1000S,3C\n9500 1\n'); // the header kept verbatim
  });

  it('does not believe an old over-quota file: recounts it', async () => {
    writeFileSync(join(md('carol'), 'maildirsize'), '10000S,10C\n20000 1\n');
    const old = Date.now() / 1000 - 3600;
    utimesSync(join(md('carol'), 'maildirsize'), old, old);
    const r = await mda(['report', '--config', conf, '--user', 'carol', '--maildir-glob', glob, '--format', 'json']);
    expect(JSON.parse(r.stdout)).toMatchObject([{ user: 'carol', bytes: 9500, status: 'warn' }]);
    expect(sizeFile('carol')).toBe('10000S,10C\n20000 1\n'); // report writes nothing
  });

  it('prints an aligned table with human sizes', async () => {
    const r = await mda(['report', '--config', conf, '--maildir-glob', glob]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER\s+MAILDIR\s+USED\s+LIMIT\s+USE%\s+MSGS\s+MSG LIMIT\s+STATUS$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^alice\s+\S+\s+5\.9K\s+20K\s+30\.0%\s+3\s+10\s+ok$/);
    expect(lines[3]).toMatch(/^carol\s+\S+\s+9\.3K\s+9\.8K\s+95\.0%\s+1\s+10\s+warn$/);
    const statusCol = lines[0]!.indexOf('STATUS');
    for (const l of lines.slice(1)) expect(l[statusCol - 1]).toBe(' ');
    for (const l of lines.slice(1)) expect(l.slice(statusCol)).toMatch(/^(ok|warn|missing)$/);
  });

  it('writes CSV that an RFC 4180 reader parses into the JSON values', async () => {
    const [csv, json] = await Promise.all([
      mda(['report', '--config', conf, '--maildir-glob', glob, '--format', 'csv']),
      mda(['report', '--config', conf, '--maildir-glob', glob, '--format', 'json']),
    ]);
    expect(csv.code).toBe(0);
    const [head, ...rows] = parseCsv(csv.stdout);
    const objects = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(head).toEqual(Object.keys(objects[0]!));
    expect(rows).toEqual(objects.map((o) => head!.map((k) => (o[k] === null ? '' : String(o[k])))));
    expect(rows.at(-1)![0]).toBe('zed,"the" ghost');
  });

  it('--over: quiet and exit 0 when nobody is over, the users and exit 1 when some are', async () => {
    const none = await mda(['report', '--config', conf, '--maildir-glob', glob, '--over', '96']);
    expect(none).toEqual({ code: 0, stdout: '', stderr: '' });
    const some = await mda(['report', '--config', conf, '--maildir-glob', glob, '--over', '90%']);
    expect(some.code).toBe(1);
    expect(some.stderr).toBe('');
    expect(some.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['USER', 'bob', 'carol']);
    const json = await mda(['report', '--config', conf, '--maildir-glob', glob, '--over', '95', '--format', 'json']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as JsonRow[]).map((x) => x.user)).toEqual(['carol']);
  });

  it('cron: no users at all (no [users], a glob over an empty mail root), with or without --over: no output, exit 0', async () => {
    const empty = join(t.dir, 'empty.toml');
    writeFileSync(empty, '[log]\ntarget = "none"\n');
    const root = join(t.dir, 'newserver');
    mkdirSync(root);
    for (const args of [[], ['--over', '90'], ['--maildir-glob', join(root, '*', 'Maildir')], ['--maildir-glob', join(root, '*', 'Maildir'), '--over', '90']]) {
      expect(await mda(['report', '--config', empty, ...args])).toEqual({ code: 0, stdout: '', stderr: '' });
    }
  });

  it('table: USE% is the larger of storage and message use, with both the storage and the message columns', async () => {
    maildir('erin', [10, 10, 10, 10, 10, 10, 10, 10, 10]); // 90 bytes of 10,000 (0.9 %), 9 messages of 10 (90 %)
    const r = await mda(['report', '--config', conf, '--user', 'erin', '--maildir-glob', glob]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [head, line] = r.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^USER\s+MAILDIR\s+USED\s+LIMIT\s+USE%\s+MSGS\s+MSG LIMIT\s+STATUS$/);
    expect(line).toMatch(/^erin\s+\S+\s+90\s+9\.8K\s+90\.0%\s+9\s+10\s+warn$/);
  });

  it('a Maildir that cannot be read: exit 2, one stderr line, the others still printed', async () => {
    rmSync(join(md('bob'), 'new'), { recursive: true });
    symlinkSync('new', join(md('bob'), 'new')); // a symlink loop: bob's Maildir cannot be counted
    const r = await mda(['report', '--config', conf, '--maildir-glob', glob, '--format', 'json']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^mda quota report: bob \(.*\/bob\/Maildir\): new is a symlink/); // refused, not followed (issue 10 #1)
    const u = byUser(JSON.parse(r.stdout) as JsonRow[]);
    expect(u.bob!.status).toMatch(/^error: new is a symlink/);
    expect(u.alice!.bytes).toBe(6000);

    const over = await mda(['report', '--config', conf, '--maildir-glob', glob, '--over', '95']);
    expect(over.code).toBe(2); // an error beats "some over"
    expect(over.stdout).toMatch(/^USER/);
    expect(over.stdout).toMatch(/\ncarol /);
  });

  it('a Maildir path that is a file is an error, a missing one is not', async () => {
    writeFileSync(join(mail, 'erin'), '');
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}[users.erin]\nmaildir = "${join(mail, 'erin')}"\n`);
    const r = await mda(['report', '--config', conf, '--user', 'erin', '--user', 'zed,"the" ghost', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mda quota report: erin (${join(mail, 'erin')}): ${join(mail, 'erin')} is not a directory\n`);
    expect((JSON.parse(r.stdout) as JsonRow[]).map((x) => x.status)).toEqual([`error: ${join(mail, 'erin')} is not a directory`, 'missing']);
  });

  it('stays silent on a non-terminal stderr even for a long queue (no progress bar)', async () => {
    for (let i = 0; i < 250; i++) maildir(`user${String(i).padStart(3, '0')}`, [10], '10000S,10C\n10 1\n');
    const r = await mda(['report', '--config', conf, '--maildir-glob', glob, '--over', '99']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it.each<[string, string[], RegExp]>([
    ['a bad flag', ['report', '--formt', 'json'], /^mda: Unknown argument: formt/],
    ['a bad --format', ['report', '--format', 'xml'], /^mda: Invalid values: Argument: format/],
    ['a bad --over', ['report', '--over', 'lots'], /^mda quota report: --over must be a percentage/],
    ['an unreadable config', ['report', '--config', '/nonexistent/mda.toml'], /^mda quota report: \/nonexistent\/mda.toml:0: cannot read config file/],
    ['a glob without a match', ['report', '--maildir-glob', '/nonexistent/*/Maildir'], /^mda quota report: --maildir-glob \/nonexistent\/\*\/Maildir matched no directory/],
    ['an unknown --user', ['recalc', '--user', 'no-such-user-mda-test'], /^mda quota recalc: no-such-user-mda-test: no such user/],
  ])('%s: exit 2 and one stderr line', async (_n, args, line) => {
    const r = await mda(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(line);
  });

  it('--user restricts the report to the named users', async () => {
    const r = await mda(['report', '--config', conf, '--maildir-glob', glob, '--user', 'carol', '--user', 'alice', '--format', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as JsonRow[]).map((x) => x.user)).toEqual(['alice', 'carol']);
  });
});

describe('mda quota recalc', () => {
  it('rewrites maildirsize from the files, prints `user bytes messages`, leaves no lock file', async () => {
    writeFileSync(join(md('alice'), 'maildirsize'), '20000S,10C\n1 1\n'); // fresh but wrong: only recalc fixes it
    const r = await mda(['recalc', '--config', conf, '--maildir-glob', glob, '--user', 'alice', '--user', 'bob', '--user', 'dave']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('alice 6000 3\nbob 9000 2\ndave 8127 4\n');
    expect(sizeFile('alice')).toBe('20000S,10C\n6000 3\n');
    expect(sizeFile('bob')).toBe('10000S,10C\n9000 2\n');
    for (const u of ['alice', 'bob', 'dave']) {
      expect(readdirSync(md(u)).filter((n) => n.includes('lock'))).toEqual([]);
      expect(readdirSync(join(md(u), 'tmp'))).toEqual([]);
    }
  });

  it('a missing Maildir is an error for recalc (exit 2), the others are still rebuilt', async () => {
    const r = await mda(['recalc', '--config', conf, '--maildir-glob', glob]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('alice 6000 3\nbob 9000 2\ncarol 9500 1\ndave 8127 4\n');
    expect(r.stderr).toMatch(/^mda quota recalc: zed,"the" ghost \(.*\): Maildir .* does not exist\n$/);
  });
});

const isRoot = process.getuid?.() === 0;
describe.skipIf(!isRoot)('as root', () => {
  const NOBODY = 65534;
  const chownTree = (p: string): void => {
    chownSync(p, NOBODY, NOBODY);
    if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) chownTree(join(p, n));
  };

  // The rebuild runs as the Maildir's owner (issue 10 #1): the owner must reach the Maildir, as under /home.
  beforeEach(() => chmodSync(t.dir, 0o755));

  it("gives a rebuilt maildirsize to the Maildir's owner, never leaves it root's", async () => {
    chownTree(md('bob'));
    const r = await mda(['recalc', '--config', conf, '--maildir-glob', glob, '--user', 'bob']);
    expect(r.code).toBe(0);
    const st = statSync(join(md('bob'), 'maildirsize'));
    expect([st.uid, st.gid]).toEqual([NOBODY, NOBODY]);
  });

  it('never writes as root through a tmp/ the owner does not own (the rebuild runs as the owner)', async () => {
    chownSync(md('bob'), NOBODY, NOBODY); // tmp/ stays root's
    const r = await mda(['recalc', '--config', conf, '--maildir-glob', glob, '--user', 'bob']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mda quota recalc: bob \(.*\): EACCES/);
    expect(existsSync(join(md('bob'), 'maildirsize'))).toBe(false);
  });
});
