/**
 * FilterClient with real shell scripts: rewrite and verdict filters, every way
 * a filter can fail (no output, bad exit, crash half way, too much output),
 * and the important one: a filter that ignores SIGTERM and starts children is
 * gone, whole process group, when its budget ends.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScannerConfig } from '../../src/config/schema.js';
import { FilterClient } from '../../src/scanners/filter/client.js';
import type { ScanRequest } from '../../src/scanners/types.js';
import { tempDir } from '../helpers/run-mda.js';
import { createNameSource } from '../../src/maildir/name-source.js';

// 8-bit, a NUL byte and no final newline: the filter must see exactly these bytes.
const MESSAGE = Buffer.concat([Buffer.from('Subject: hello\nFrom: a@example.org\n\nbody \xe9 line\n', 'latin1'), Buffer.from([0, 0x41])]);

let t: ReturnType<typeof tempDir>;
let work: string;
let msgPath: string;
let seq = 0;

beforeAll(() => {
  t = tempDir('mda-filter-');
  work = join(t.dir, 'tmp');
  mkdirSync(work);
  msgPath = join(t.dir, 'message');
  writeFileSync(msgPath, MESSAGE);
});
afterAll(() => t.cleanup());
// A rewrite's file is the caller's to remove: do that after each test.
afterEach(() => {
  for (const f of readdirSync(work)) rmSync(join(work, f));
});

/** script writes an executable /bin/sh script and returns its path. */
function script(body: string): string {
  const path = join(t.dir, `filter-${++seq}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function client(command: string[], over: Partial<ScannerConfig> = {}): FilterClient {
  return new FilterClient({
    type: 'filter', name: 'filter', hosts: [], order: 'ordered', command, filterMode: 'rewrite', spamdMode: 'headers',
    timeoutMs: 30_000, maxSize: 10 * 1024 * 1024, onFailure: 'deliver', ...over,
  });
}

function request(budgetMs = 10_000, over: Partial<ScanRequest> = {}): ScanRequest {
  return {
    path: msgPath, size: MESSAGE.length, user: 'bob', home: '/home/bob', sender: 'alice@example.org', recipient: 'bob@example.test',
    signal: AbortSignal.timeout(budgetMs), workDir: work, names: createNameSource(), ...over,
  };
}

const workFiles = (): string[] => readdirSync(work);

/** alive lists the processes of a process group that still run (zombies waiting for init do not count). */
function alive(pgid: number): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,stat=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when nothing matches
  }
  return out.split('\n').filter((l) => l.trim() !== '' && !/^\s*\d+\s+Z/.test(l));
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('FilterClient: rewrite mode', () => {
  it('sed adds a header: clean, with the new message in a 0600 file in workDir', async () => {
    const v = await client([script(`exec sed '1i X-Filtered: yes'`)]).scan(request());
    expect(v).toMatchObject({ scanner: 'filter', type: 'filter', status: 'clean' });
    expect(v.rewrittenPath).toBeDefined();
    expect(v.rewrittenPath!.startsWith(work + '/')).toBe(true);
    expect(readFileSync(v.rewrittenPath!)).toEqual(Buffer.concat([Buffer.from('X-Filtered: yes\n'), MESSAGE]));
    expect(statSync(v.rewrittenPath!).mode & 0o777).toBe(0o600);
    expect(v.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('stdin really is the message: `cat` (a bare name, found in /usr/bin:/bin) returns it byte for byte', async () => {
    const v = await client(['cat']).scan(request());
    expect(v.status).toBe('clean');
    expect(readFileSync(v.rewrittenPath!)).toEqual(MESSAGE);
  });

  it('the environment is only PATH, HOME, USER, LANG, SENDER and RECIPIENT', async () => {
    process.env['MDA_SECRET_TEST'] = 'leak';
    const v = await client([script(`printf 'X-Env: 1\\n\\n'; exec /usr/bin/env`)]).scan(request());
    delete process.env['MDA_SECRET_TEST'];
    expect(v.status).toBe('clean');
    const body = readFileSync(v.rewrittenPath!, 'utf8').split('\n\n')[1]!;
    const env = Object.fromEntries(body.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    delete env['PWD']; // dash adds its working directory
    expect(env).toEqual({
      PATH: '/usr/bin:/bin', HOME: '/home/bob', USER: 'bob', LANG: 'C', SENDER: 'alice@example.org', RECIPIENT: 'bob@example.test',
    });
  });

  it.each([
    ['prints nothing', 'cat >/dev/null', /no output/],
    ['exits 1 after a good message', 'cat; exit 1', /^exit 1/],
    ['prints half, then crashes (kill -9 $$)', 'head -c 20; kill -9 $$', /killed by SIGKILL/],
    ['prints plain text', 'echo "no headers here"', /does not start with a header/],
    ['prints a usage message and exits 0', 'echo "usage: filter [-x]"; echo "  see the manual"; echo oops', /does not start with a header/],
    ['exits 3 with a reason on stderr', 'echo "cannot load rules" >&2; exit 3', /^exit 3: cannot load rules$/],
  ])('a filter that %s → skipped error, and its output is removed', async (_name, body, detail) => {
    const v = await client([script(body)]).scan(request());
    expect(v).toMatchObject({ status: 'skipped', skip: 'error' });
    expect(v.detail).toMatch(detail);
    expect(v.rewrittenPath).toBeUndefined();
    expect(workFiles()).toEqual([]);
  });

  it('output over max_size → skipped error, never the new message', async () => {
    const v = await client([script(`cat; head -c 5000 /dev/zero | tr '\\0' x`)], { maxSize: 1000 }).scan(request());
    expect(v).toMatchObject({ status: 'skipped', skip: 'error' });
    expect(v.detail).toMatch(/over max_size \(1000\)/);
    expect(workFiles()).toEqual([]);
  });

  it('a message over max_size is not sent: skipped too-large, nothing runs', async () => {
    const marker = join(t.dir, 'ran-too-large');
    const v = await client([script(`touch ${marker}; cat`)], { maxSize: 10 }).scan(request());
    expect(v).toMatchObject({ status: 'skipped', skip: 'too-large' });
    expect(existsSync(marker)).toBe(false);
  });

  it('a command that does not exist → skipped error naming it', async () => {
    const v = await client(['/nonexistent/filter']).scan(request());
    expect(v).toMatchObject({ status: 'skipped', skip: 'error' });
    expect(v.detail).toMatch(/^exit 127: .*\/nonexistent\/filter/);
    expect(workFiles()).toEqual([]);
  });

  it('lots of stderr neither blocks the filter nor floods the detail line', async () => {
    const v = await client([script(`head -c 200000 /dev/zero | tr '\\0' e >&2; exit 4`)]).scan(request());
    expect(v).toMatchObject({ status: 'skipped', skip: 'error' });
    expect(v.detail.length).toBeLessThan(300);
  });

  it('children the filter leaves behind are killed when it exits', async () => {
    const pidFile = join(t.dir, 'leftover.pid');
    const v = await client([script(`sleep 1000 & echo $$ > ${pidFile}; exec cat`)]).scan(request());
    expect(v.status).toBe('clean');
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    expect(await eventually(() => alive(pgid).length === 0, 2_000)).toBe(true);
  });

  it('an already used-up budget → skipped timeout without running anything', async () => {
    const marker = join(t.dir, 'ran-aborted');
    const signal = AbortSignal.abort();
    const v = await client([script(`touch ${marker}; cat`)]).scan(request(0, { signal }));
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout' });
    expect(existsSync(marker)).toBe(false);
    expect(workFiles()).toEqual([]);
  });
});

describe('FilterClient: the budget ends', () => {
  it('a filter that ignores SIGTERM and starts children is gone, whole group, soon after a 500 ms budget', async () => {
    const pidFile = join(t.dir, 'stubborn.pid');
    const stubborn = script(`trap '' TERM
sleep 1000 &
sleep 1000 &
echo $$ > ${pidFile}
sleep 1000`);
    const started = performance.now();
    const scan = client([stubborn]).scan(request(500));
    // While it runs: the shell, its two children and its own sleep share one group.
    expect(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 400)).toBe(true);
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    expect(pgid).toBeGreaterThan(1);
    expect(await eventually(() => alive(pgid).length >= 4, 300), alive(pgid).join('\n')).toBe(true);
    const v = await scan;
    const elapsed = performance.now() - started;
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(500 + 700);
    // SIGKILL is final, but the kernel needs a moment to tear the processes down.
    expect(await eventually(() => alive(pgid).length === 0, 2_000), `still alive:\n${alive(pgid).join('\n')}`).toBe(true);
    expect(workFiles()).toEqual([]);
  });

  it('verdict mode times out the same way', async () => {
    const v = await client([script(`trap '' TERM; sleep 1000`)], { filterMode: 'verdict' }).scan(request(300));
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout' });
  });
});

describe('FilterClient: verdict mode', () => {
  const verdictFilter = (): string => script(`cat >/dev/null; [ -n "$2" ] && echo "$2" >&2; exit "$1"`);

  it.each<[string[], object]>([
    [['0'], { status: 'clean', detail: 'exit 0' }],
    [['1'], { status: 'spam' }],
    [['2', 'Eicar-Test-Signature FOUND'], { status: 'infected', signature: 'Eicar-Test-Signature FOUND' }],
    [['2'], { status: 'infected', signature: 'filter' }],
    [['3', 'broken'], { status: 'skipped', skip: 'error', detail: 'exit 3: broken' }],
    [['75'], { status: 'skipped', skip: 'error', detail: 'exit 75' }],
  ])('exit %j → %j, and no output file', async (args, expected) => {
    const v = await client([verdictFilter(), ...args], { filterMode: 'verdict' }).scan(request());
    expect(v).toMatchObject(expected);
    expect(v.rewrittenPath).toBeUndefined();
    expect(workFiles()).toEqual([]);
  });

  it('stdout is ignored in verdict mode (a chatty filter is fine)', async () => {
    const v = await client([script('cat; exit 0')], { filterMode: 'verdict' }).scan(request());
    expect(v).toMatchObject({ status: 'clean' });
    expect(workFiles()).toEqual([]);
  });
});

describe('FilterClient: ping', () => {
  it('a bare name is looked up in /usr/bin:/bin', async () => {
    await expect(client(['sh']).ping(AbortSignal.timeout(5_000))).resolves.toMatch(/^executable \/(usr\/)?bin\/sh$/);
  });

  it('an absolute path to an executable', async () => {
    const s = script('exit 0');
    await expect(client([s]).ping(AbortSignal.timeout(5_000))).resolves.toBe(`executable ${s}`);
  });

  it.each([
    ['a missing bare name', (): string => 'no-such-filter-anywhere', /no-such-filter-anywhere: not found in \/usr\/bin:\/bin/],
    ['a missing absolute path', (): string => '/nonexistent/filter', /\/nonexistent\/filter: no such file/],
    ['a directory', (): string => t.dir, /not a regular file/],
  ])('%s is refused', async (_name, prog, message) => {
    await expect(client([prog()]).ping(AbortSignal.timeout(5_000))).rejects.toThrow(message);
  });

  it.skipIf(process.getuid?.() === 0)('a file without x bits is refused', async () => {
    const s = script('exit 0');
    chmodSync(s, 0o644);
    await expect(client([s]).ping(AbortSignal.timeout(5_000))).rejects.toThrow(/not executable/);
  });
});
