/**
 * Issue 10 finding 10: the compiled config (`mda config check` writes it next
 * to the TOML file) stands in for the file only while it is the same file. An
 * edit that keeps the size and puts the mtime back (`touch -r`) still changes
 * the ctime, which no one can set: the stamp includes it, so the edited file is
 * parsed again. Run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let cfg: string;
beforeEach(() => {
  t = tempDir('mda-compiled-');
  cfg = join(t.dir, 'mda.toml');
});
afterEach(() => t.cleanup());

const config = (storage: string) => `[log]\ntarget = "none"\n[quota]\nstorage = "${storage}"\nover_quota = "defer"\n`;
/** 150 KB: within 900M, over 100K. */
const MESSAGE = `From a@b.example  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b.example>\nSubject: big\n\n${'x'.repeat(79)}\n`.padEnd(150_000, 'y\n');

const deliver = (md: string, env: NodeJS.ProcessEnv = {}) =>
  runMda(['deliver', '--config', cfg, '--maildir', md], { input: MESSAGE, env: { PATH: process.env.PATH, HOME: t.dir, USER: 'root', ...env } });

it('a same-size edit with the mtime put back (touch -r) is parsed again, not served from the compiled copy', async () => {
  writeFileSync(cfg, config('900M'), { mode: 0o644 });
  execFileSync(process.execPath, [join(import.meta.dirname, '../../bin/mda'), 'config', 'check', '--config', cfg]);
  expect(readdirSync(t.dir)).toContain('.mda.toml.compiled.json');
  // Precondition: the compiled copy is what deliver uses (it never loads the TOML parser).
  const first = await deliver(join(t.dir, 'A'), { NODE_DEBUG: 'module' });
  expect(first.code).toBe(0);
  expect(first.output).not.toContain('smol-toml');

  // Same size, same inode, same mtime: only the ctime tells.
  writeFileSync(join(t.dir, 'reference'), '');
  execFileSync('touch', ['-r', cfg, join(t.dir, 'reference')]);
  writeFileSync(cfg, config('100K'));
  execFileSync('touch', ['-r', join(t.dir, 'reference'), cfg]);
  expect(statSync(cfg).mtimeMs).toBe(statSync(join(t.dir, 'reference')).mtimeMs);
  const r = await deliver(join(t.dir, 'B'));
  expect(r.output).toMatch(/^4\.2\.2 /);
  expect(r.code).toBe(75);
  expect(listDir(join(t.dir, 'B', 'new'))).toEqual([]);
});
