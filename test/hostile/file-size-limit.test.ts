/**
 * Postfix's mailbox_size_limit reaches mda as RLIMIT_FSIZE, with SIGXFSZ
 * ignored. A message past it can never fit, so it bounces with 5.2.2 as
 * Postfix local(8) does (mbox_dsn maps EFBIG to 5.2.2; issue 9 #14): never a
 * death by SIGXFSZ, never exit 1, nothing left in tmp/, maildirsize untouched;
 * a message within it still delivers. Runs as any user (lowering a limit needs no privilege).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MDA, QUIET_CONFIG, listDir, tempDir, type MdaResult } from '../helpers/run-mda.js';

const BLOCKS = 200; // `ulimit -f` counts 512-byte blocks in dash and POSIX sh

/** The byte limit `ulimit -f BLOCKS` really sets here, read back from /proc. */
function limitBytes(): number {
  const r = spawnSync('/bin/sh', ['-c', `ulimit -f ${BLOCKS}; cat /proc/self/limits`], { encoding: 'utf8' });
  const m = /^Max file size\s+(\d+)/m.exec(r.stdout);
  if (!m) throw new Error(`cannot read the file size limit: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}
const LIMIT = limitBytes();

let t: ReturnType<typeof tempDir>;
let md: string;
let cfg: string;
beforeEach(() => {
  t = tempDir('mda-hostile-');
  md = join(t.dir, 'Maildir');
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, QUIET_CONFIG + '[quota]\nstorage = "100M"\n');
});
afterEach(() => t.cleanup());

/** Runs mda as Postfix's local(8) would under mailbox_size_limit: RLIMIT_FSIZE set, SIGXFSZ ignored (unless `trapXfsz` is false). */
function deliverLimited(input: Buffer, trapXfsz = true): Promise<MdaResult> {
  const script = `${trapXfsz ? "trap '' XFSZ; " : ''}ulimit -f ${BLOCKS}; exec "$@"`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/bin/sh', ['-c', script, 'sh', process.execPath, MDA, 'deliver', '--config', cfg, '--maildir', md], {
      env: { PATH: process.env.PATH, HOME: t.dir, USER: process.env.USER ?? 'root' },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.stdin.on('error', () => undefined); // mda may stop reading once the write failed
    const hard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mda did not exit; output: ${output}`));
    }, 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      resolve({ code, signal, output, elapsedMs: performance.now() - started });
    });
    child.stdin.end(input);
  });
}

function message(id: string, size: number): Buffer {
  const head = Buffer.from(`Message-ID: <${id}@hostile.test>\nSubject: ${id}\n\n`);
  return Buffer.concat([head, Buffer.alloc(size - head.length - 1, 0x61), Buffer.from('\n')]);
}

const maildirsize = () => readFileSync(join(md, 'maildirsize'), 'latin1');

describe(`RLIMIT_FSIZE (ulimit -f ${BLOCKS}) as Postfix's mailbox_size_limit`, () => {
  it('the limit lies between the small and the large test messages', () => {
    expect(LIMIT).toBeGreaterThan(800);
    expect(LIMIT).toBeLessThan(1024 * 1024);
  });

  it('a larger message: 5.2.2 bounce (EFBIG writing the message, as Postfix mbox_dsn), not killed, nothing in tmp/ or new/, maildirsize unchanged; a small one still delivers', async () => {
    const first = await deliverLimited(message('first', 500));
    expect(first.code, first.output).toBe(0);
    const before = maildirsize();

    const r = await deliverLimited(message('big', 1024 * 1024));
    expect(r.signal, r.output).toBeNull();
    expect(r.code, r.output).toBe(77);
    expect(r.output).toMatch(/^5\.2\.2 [^\n]*EFBIG/);
    expect(r.output.trim().split('\n')).toHaveLength(1);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(maildirsize()).toBe(before);

    const small = await deliverLimited(message('small', 800));
    expect(small.code, small.output).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(2);
  });

  it('exactly the limit is stored whole; one byte more bounces 5.2.2', async () => {
    const exact = message('exact', LIMIT);
    const ok = await deliverLimited(exact);
    expect(ok.code, ok.output).toBe(0);
    const [name] = listDir(join(md, 'new'));
    expect(readFileSync(join(md, 'new', name!)).equals(exact)).toBe(true);

    const over = await deliverLimited(message('over', LIMIT + 1));
    expect(over.signal).toBeNull();
    expect(over.code, over.output).toBe(77);
    expect(over.output).toMatch(/^5\.2\.2 /);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
  });

  it('even with SIGXFSZ at its default (no trap), node ignores it: still 5.2.2, never a signal death', async () => {
    const r = await deliverLimited(message('no-trap', 1024 * 1024), false);
    expect(r.signal, r.output).toBeNull();
    expect(r.code, r.output).toBe(77);
    expect(r.output).toMatch(/^5\.2\.2 /);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
});
