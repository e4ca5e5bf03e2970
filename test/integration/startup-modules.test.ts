/**
 * What a plain delivery loads at start-up. Postfix starts `mda deliver` once per message, so a
 * Node built-in that the hot path does not need must not load there: node:crypto alone costs
 * milliseconds per message (measured with `npm run bench`, startup section, BENCH_BASELINE).
 * Features that need one (Sieve, scanners, IMAP keywords, quota rewrites) load it when used.
 * Runs the built CLI as Postfix does (a small environment), with a preload that records
 * process.moduleLoadList at exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MDA = fileURLToPath(new URL('../../bin/mda', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mda-startup-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Built-ins a delivery without a script, scanner or keyword never needs. */
const NOT_AT_START = ['crypto', 'child_process', 'dns', 'tls', 'http', 'https', 'zlib', 'worker_threads'];

function loadedBy(args: string[], input: string): string[] {
  const out = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const preload = join(dir, 'record.cjs');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.MODULES_OUT, process.moduleLoadList.join('\\n')));\n");
  const r = spawnSync(process.execPath, [MDA, ...args], {
    input, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: dir, MODULES_OUT: out, NODE_OPTIONS: `--require ${preload}` },
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  return readFileSync(out, 'utf8').split('\n');
}

describe('mda deliver start-up', () => {
  it('a delivery without a Sieve script, scanner or keyword loads none of the costly built-ins', () => {
    const config = join(dir, 'mda.toml');
    writeFileSync(config, '[log]\ntarget = "none"\n');
    const loaded = loadedBy(['deliver', '--maildir', join(dir, 'Maildir'), '--config', config], 'From a@b  Sat Nov 21 23:21:04 2026\nSubject: x\n\nhi\n');
    expect(loaded).toContain('NativeModule fs'); // the record itself works
    expect(NOT_AT_START.filter((m) => loaded.includes(`NativeModule ${m}`))).toEqual([]);
  });

  it('--dry-run and --version are the full CLI\'s (bin/mda routes them there): the deliver bundle holds none of their code', () => {
    const bundle = readFileSync(fileURLToPath(new URL('../../dist/deliver.cjs', import.meta.url)), 'utf8');
    expect(bundle).not.toContain('nothing is stored, sent or locked'); // deliver-dry-run.ts
    expect(bundle).not.toMatch(/\(build \$\{/); // version.ts
    expect(readFileSync(MDA, 'utf8')).toMatch(/NOT_LEAN = new Set\(\[[^\]]*'--version', '--dry-run'\]\)/);
  });
});
