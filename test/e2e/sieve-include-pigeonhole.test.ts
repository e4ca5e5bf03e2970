/**
 * include (RFC 6609) against Pigeonhole: the same main script and included scripts run by
 * `mda sieve test` and by Pigeonhole's `sieve-test` (dovecot-sieve), with the personal and global
 * script directories configured on both sides; the folders, redirects and discards must agree.
 * Skipped loudly when sieve-test is not installed (required in CI).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MDA, tempDir } from '../helpers/run-mda.js';

const SIEVE_TEST = '/usr/bin/sieve-test';
const missing = !existsSync(SIEVE_TEST);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing && !required) console.warn('\n*** SKIPPED test/e2e/sieve-include-pigeonhole.test.ts: sieve-test (dovecot-sieve) is not installed ***\n');

const MSG = 'From: Alice <alice@example.org>\nTo: Bob <bob@example.test>\nSubject: Weekly report\nList-Id: <devel.lists.example.net>\nMessage-ID: <i1@example.org>\n\nNumbers: 42\n';

const R = 'require ["include", "fileinto", "variables"];\n';
/** [title, main script, { "name": personal script, "global:name": global script }] */
const CASES: Array<[string, string, Record<string, string>]> = [
  ['RFC 6609 §3.2: include runs the script in place', `${R}include "a";\nfileinto "M";`, { a: 'require "fileinto"; fileinto "A";' }],
  ['RFC 6609 §3.2: :global', `${R}include :global "site";\nfileinto "M";`, { 'global:site': 'require "fileinto"; fileinto "Site";' }],
  ['RFC 6609 §3.2: :optional missing', `${R}include :optional "gone";\nfileinto "M";`, {}],
  ['RFC 6609 §3.2: :once', `${R}global "n";\ninclude "inc";\ninclude :once "inc";\ninclude "inc";\nfileinto "n\${n}";`, { inc: 'require ["include", "variables"]; global "n"; set "n" "${n}x";' }],
  ['RFC 6609 §3.3: return', `${R}include "a";\nfileinto "M";`, { a: 'require ["include", "fileinto"]; fileinto "A"; return; fileinto "Never";' }],
  ['RFC 6609 §3.3: return in the main script', `${R}fileinto "A";\nreturn;\nfileinto "Never";`, {}],
  ['RFC 5228 §3.3: stop in an included script', `${R}include "a";\nfileinto "M";`, { a: 'stop;' }],
  ['RFC 6609 §3.1: keep in an included script', `${R}include "a";\nfileinto "M";`, { a: 'keep;' }],
  ['RFC 6609 §3.1: discard in an included script', `${R}include "a";`, { a: 'discard;' }],
  ['RFC 6609 §3.4: global and local variables', `${R}global "x";\nset "x" "one";\nset "y" "main";\ninclude "g";\nfileinto "\${x}-\${y}";`, { g: 'require ["include", "variables", "fileinto"]; global "x"; fileinto "in-${x}-${y}"; set "x" "two"; set "y" "local";' }],
  ['RFC 6609 §3.1: nested includes', `${R}include "a";`, { a: 'require ["include", "fileinto"]; include "b"; fileinto "A";', b: 'require "fileinto"; fileinto "B";' }],
  ['RFC 6609 §3.2: :once of a running script', `${R}include "a";`, { a: 'require ["include", "fileinto"]; fileinto "A"; include :once "a";' }],
];

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir('mda-sieve-inc-pig-');
  chmodSync(t.dir, 0o755);
  mkdirSync(join(t.dir, 'w'), { mode: 0o777 });
  chmodSync(join(t.dir, 'w'), 0o777);
  writeFileSync(join(t.dir, 'm.eml'), MSG, { mode: 0o644 });
});
afterAll(() => t?.cleanup());

interface Effect { stores: string[]; redirects: string[]; discard: boolean }

function pigeonhole(dir: string, main: string): Effect {
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `mail_uid = nobody\nmail_gid = nogroup\nmail_location = maildir:${join(t.dir, 'w', 'Maildir')}\nplugin {\n  sieve = file:${join(dir, 'sieve')}\n  sieve_global = ${join(dir, 'global')}\n}\n`, { mode: 0o644 });
  const r = spawnSync(SIEVE_TEST, ['-c', conf, main, join(t.dir, 'm.eml')], { encoding: 'utf8', timeout: 20_000 });
  const out = r.stdout;
  if (!/Performed actions/.test(out)) throw new Error(`sieve-test failed: ${r.stdout}${r.stderr}`);
  return {
    stores: [...out.matchAll(/store message in folder: (.+)/g)].map((m) => m[1]!.trim()).sort(),
    redirects: [...out.matchAll(/redirect message to: <?([^>\s]+)>?/g)].map((m) => m[1]!).sort(),
    discard: /^\s*\* discard/m.test(out),
  };
}

function mda(dir: string, main: string): Effect {
  const cfg = join(dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[sieve]\ndir = "${join(dir, 'sieve')}"\nglobal_dir = "${join(dir, 'global')}"\n`);
  const r = spawnSync(process.execPath, [MDA, 'sieve', 'test', '--config', cfg, '--script', main], { input: MSG, encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH, HOME: dir } });
  const result = r.stdout.split(/^result:$/m)[1] ?? '';
  if (/runtime error/.test(result) || r.status !== 0) throw new Error(`mda sieve test failed: ${r.stdout}${r.stderr}`);
  return {
    stores: [...result.matchAll(/store in (\S+)/g)].map((m) => m[1]!).sort(),
    redirects: [...result.matchAll(/redirect to <([^>]+)>/g)].map((m) => m[1]!).sort(),
    discard: /^\s*discard/m.test(result),
  };
}

describe.skipIf(missing && !required)('include: mda against Pigeonhole sieve-test', () => {
  it.each(CASES)('%s', (title, main, scripts) => {
    if (missing) throw new Error('sieve-test is required here (CI=true): apt-get install dovecot-sieve');
    const dir = join(t.dir, title.replace(/\W+/g, '_'));
    for (const d of [dir, join(dir, 'sieve'), join(dir, 'global')]) mkdirSync(d, { mode: 0o755 });
    for (const [name, text] of Object.entries(scripts)) {
      const [where, base] = name.startsWith('global:') ? ['global', name.slice('global:'.length)] : ['sieve', name];
      writeFileSync(join(dir, where, `${base}.sieve`), `${text}\n`, { mode: 0o644 });
    }
    const file = join(dir, 'main.sieve');
    writeFileSync(file, `${main}\n`, { mode: 0o644 });
    const theirs = pigeonhole(dir, file);
    expect(mda(dir, file)).toEqual(theirs);
  });
});
