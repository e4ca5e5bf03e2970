/**
 * `mda sieve test` through its handler (files on disk, message on a fake
 * stdin): the printed plan and trace, exit statuses, nothing stored or sent.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sieveTest } from '../../src/cli/commands/sieve-test.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());

async function runCmd(scripts: string[], message: string, extra: { sender?: string; recipient?: string } = {}) {
  const files = scripts.map((s, i) => {
    const f = join(t.dir, `s${i}.sieve`);
    writeFileSync(f, s);
    return f;
  });
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, '[log]\ntarget = "none"\n');
  let out = '';
  let err = '';
  const code = await sieveTest({ script: files, config: cfg, ...extra }, {
    out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) }, env: {},
    stdin: (async function* () { yield Buffer.from(message); })(),
  });
  return { code, out, err, files };
}

const MSG = 'From alice@example.org  Sat Nov 21 2026\nReturn-Path: <alice@example.org>\nDelivered-To: bob@example.test\nTo: bob@example.test\nSubject: Hello\nList-Id: <dev.example.org>\n\nbody\n';

describe('mda sieve test', () => {
  it('prints the trace and the plan; envelope from Return-Path and Delivered-To', async () => {
    const r = await runCmd(['require ["fileinto", "imap4flags"];\nif header :contains "list-id" "dev" { fileinto :flags "\\\\Seen" "Lists.Dev"; }\nredirect "c@example.net";'], MSG);
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'envelope: from <alice@example.org> to <bob@example.test>',
      'trace:',
      `  ${r.files[0]}:2: if header :contains "list-id" "dev" → true`,
      '  fileinto "Lists.Dev" flags \\Seen',
      '  redirect to <c@example.net>',
      'result:',
      '  store in Lists.Dev flags \\Seen',
      '  redirect to <c@example.net>',
      '',
    ].join('\n'));
  });

  it('--sender/--recipient override; discard is shown; a vacation that would not reply says why', async () => {
    const r = await runCmd(['require "vacation"; vacation "away"; discard;'], MSG, { sender: 'x@y.org', recipient: 'bob@example.test' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('envelope: from <x@y.org> to <bob@example.test>');
    expect(r.out).toContain('vacation: no reply: the message came through a mailing list (list-id)');
    expect(r.out).toContain('  discard\n');
  });

  it('compile errors: file:line:column on stderr, exit 1', async () => {
    const r = await runCmd(['fileinto "x";'], MSG);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/s0\.sieve:1:1: .*fileinto/);
  });

  it('a runtime error: shown, implicit keep, exit 1', async () => {
    const r = await runCmd(['require ["fileinto", "variables"]; set "f" "a/b"; fileinto "${f}";'], MSG);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/runtime error: .*cannot file into "a\/b"/);
    expect(r.out).toContain('store in INBOX (implicit keep)');
  });

  it('a chain of scripts', async () => {
    const r = await runCmd(['require ["fileinto","copy"]; fileinto :copy "Audit";', 'require "fileinto"; fileinto "User";'], MSG);
    expect(r.out).toContain('  store in Audit\n  store in User\n');
  });
});
