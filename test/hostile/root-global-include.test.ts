/**
 * include :global (RFC 6609) when mda was started as root: a global script is an admin script,
 * held to the rules of [sieve] before/after (io/trusted-path.ts): root's alone, in directories
 * only root can change. A refused one makes its include a runtime error: the message is kept.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

const isRoot = process.geteuid?.() === 0;
if (!isRoot) console.warn('\n*** test/hostile/root-global-include.test.ts SKIPPED: it must run as root (it checks what root refuses) ***\n');

const NOBODY = 65534;
const MSG = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\nReturn-Path: <alice@sender.test>\nMessage-ID: <g1@sender.test>\n\nhi\n';

let t: ReturnType<typeof tempDir>;
let md: string;
let log: string;
let global: string;
beforeEach(() => {
  t = tempDir('mda-root-global-');
  chmodSync(t.dir, 0o755);
  md = join(t.dir, 'Maildir');
  log = join(t.dir, 'mda.log');
  global = join(t.dir, 'global');
  mkdirSync(global, { mode: 0o755 });
  writeFileSync(join(t.dir, 'user.sieve'), 'require "include";\ninclude :global "site";\n', { mode: 0o644 });
});
afterEach(() => t.cleanup());

function site(mode = 0o644): string {
  const path = join(global, 'site.sieve');
  writeFileSync(path, 'discard;\n');
  chmodSync(path, mode);
  return path;
}

async function deliverAsRoot() {
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[sieve]\nscript = "${join(t.dir, 'user.sieve')}"\nglobal_dir = "${global}"\nstate_dir = "${join(t.dir, 'state')}"\n`, { mode: 0o644 });
  return runMda(['deliver', '--config', cfg, '--maildir', md], { input: MSG, env: { PATH: process.env.PATH, HOME: t.dir, USER: 'root' } });
}

describe.skipIf(!isRoot)('global included scripts root would run', () => {
  it('control: a root-owned global script runs (discard: nothing stored)', async () => {
    site();
    const r = await deliverAsRoot();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(listDir(join(md, 'new'))).toEqual([]);
  });

  it('a global script owned by another user is refused: kept in INBOX, the refusal logged', async () => {
    chownSync(site(), NOBODY, NOBODY);
    const r = await deliverAsRoot();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/site\.sieve.*owned by uid 65534/);
  });

  it('a group-writable global script is refused', async () => {
    site(0o664);
    const r = await deliverAsRoot();
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/site\.sieve.*writable by group/);
  });

  it('a global directory another user owns is refused', async () => {
    site();
    chownSync(global, NOBODY, NOBODY);
    const r = await deliverAsRoot();
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readFileSync(log, 'utf8')).toMatch(/global.*owned by uid 65534/);
  });
});
