/**
 * `mda sieve test` with include (RFC 6609): included scripts come from [sieve] dir under $HOME
 * and [sieve] global_dir, as in delivery; a missing one is the runtime error delivery would hit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sieveTest } from '../../src/cli/commands/sieve-test.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
  mkdirSync(join(t.dir, 'sieve'));
  mkdirSync(join(t.dir, 'global'));
});
afterEach(() => t.cleanup());

async function runCmd(main: string) {
  const file = join(t.dir, 'main.sieve');
  writeFileSync(file, main);
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[sieve]\ndir = "~/sieve"\nglobal_dir = "${join(t.dir, 'global')}"\n`);
  let out = '';
  const code = await sieveTest({ script: [file], config: cfg }, {
    out: { write: (s: string) => (out += s) }, err: { write: () => undefined }, env: { HOME: t.dir, USER: 'bob' },
    stdin: (async function* () { yield Buffer.from('From: a@example.org\nSubject: Hi\n\nbody\n'); })(),
  });
  return { code, out };
}

describe('mda sieve test: include', () => {
  it('RFC 6609 §3.2: runs personal scripts from ~/sieve and global ones from global_dir', async () => {
    writeFileSync(join(t.dir, 'sieve', 'roundcube.sieve'), 'require "fileinto";\nfileinto "Personal";\n');
    writeFileSync(join(t.dir, 'global', 'site.sieve'), 'require "fileinto";\nfileinto "Global";\n');
    const r = await runCmd('require "include";\ninclude "roundcube";\ninclude :global "site";\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('  include personal "roundcube"\n');
    expect(r.out).toContain('  store in Personal\n  store in Global\n');
  });

  it('RFC 6609 §3.2: a missing include is a runtime error (exit 1), the implicit keep only', async () => {
    const r = await runCmd('require "include";\ninclude "gone";\n');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/runtime error: .*main\.sieve:2:1: include: the personal script "gone" does not exist/);
    expect(r.out).toContain('store in INBOX (implicit keep)');
  });
});
