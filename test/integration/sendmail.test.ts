/**
 * sendmail.ts against a stub sendmail that records argv and stdin: the argv
 * (no shell), the null sender, a streamed file with a prefix, failures with
 * their reason, and a hung sendmail killed at its budget.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendmail } from '../../src/sieve/sendmail.js';
import { tempDir } from '../helpers/run-mda.js';

const STUB = fileURLToPath(new URL('../fixtures/sieve/stub-sendmail.sh', import.meta.url));
let t: ReturnType<typeof tempDir>;
const saved = { ...process.env };
beforeEach(() => {
  t = tempDir();
  process.env['STUB_SENDMAIL_DIR'] = t.dir;
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('STUB_SENDMAIL')) delete process.env[k];
  Object.assign(process.env, saved);
  t.cleanup();
});

/** The stub reads its settings from the environment sendmail.ts gives it: route them via a wrapper. */
function stubWith(env: Record<string, string>): string {
  const path = join(t.dir, 'sendmail');
  const vars = Object.entries({ STUB_SENDMAIL_DIR: t.dir, ...env }).map(([k, v]) => `${k}='${v}'`).join(' ');
  writeFileSync(path, `#!/bin/sh\nexec env ${vars} ${STUB} "$@"\n`, { mode: 0o755 });
  return path;
}

function sent(): Array<{ args: string[]; msg: string }> {
  return readdirSync(t.dir).filter((f) => f.endsWith('.args')).sort().map((f) => ({
    args: readFileSync(join(t.dir, f), 'utf8').trimEnd().split('\n'),
    msg: readFileSync(join(t.dir, f.replace(/\.args$/, '.msg')), 'utf8'),
  }));
}

const base = (program: string, signal = AbortSignal.timeout(10_000)) => ({ program, sender: 'alice@example.org', recipient: 'carol@example.net', home: t.dir, user: 'bob', signal });

describe('sendmail', () => {
  it('runs `sendmail -i -f SENDER -- RCPT` with prefix + file on stdin', async () => {
    const file = join(t.dir, 'message');
    const big = 'x'.repeat(300_000);
    writeFileSync(file, `Subject: hi\n\n${big}\n`);
    const r = await sendmail({ ...base(stubWith({})), prefix: Buffer.from('X-Sieve-Redirected-From: <bob@example.test>\n'), file });
    expect(r).toEqual({ ok: true });
    const [one] = sent();
    expect(one!.args).toEqual(['-i', '-f', 'alice@example.org', '--', 'carol@example.net']);
    expect(one!.msg).toBe(`X-Sieve-Redirected-From: <bob@example.test>\nSubject: hi\n\n${big}\n`);
  });

  it.each([['a@b.example, c@d.example'], ['"x'], ['-oQ/tmp'], ['a@b.example c@d.example'], ['']])(
    'a recipient that is not one plain address (%j) is refused before sendmail runs',
    async (recipient) => {
      const r = await sendmail({ ...base(stubWith({})), recipient, body: Buffer.from('x\n') });
      expect(r.ok).toBe(false);
      expect(sent()).toEqual([]);
    },
  );

  it('the null sender is -f <>; a body buffer is sent as is', async () => {
    const r = await sendmail({ ...base(stubWith({})), sender: '', body: Buffer.from('Subject: Auto\r\n\r\naway\r\n') });
    expect(r.ok).toBe(true);
    expect(sent()[0]!.args).toEqual(['-i', '-f', '<>', '--', 'carol@example.net']);
    expect(sent()[0]!.msg).toBe('Subject: Auto\r\n\r\naway\r\n');
  });

  it('a non-zero exit is a failure with the first stderr line', async () => {
    const r = await sendmail({ ...base(stubWith({ STUB_SENDMAIL_EXIT: '75', STUB_SENDMAIL_STDERR: 'postdrop: warning: unable to look up public/pickup' })), body: Buffer.from('x\n') });
    expect(r).toEqual({ ok: false, why: expect.stringMatching(/failed \(exit 75\): postdrop: warning/) });
  });

  it('a missing program is a failure, not a throw', async () => {
    const r = await sendmail({ ...base(join(t.dir, 'no-such-sendmail')), body: Buffer.from('x\n') });
    expect(r).toEqual({ ok: false, why: expect.stringMatching(/not found or not executable/) });
  });

  it('an unreadable message file: nothing is submitted', async () => {
    const r = await sendmail({ ...base(stubWith({})), file: join(t.dir, 'missing') });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toMatch(/cannot send the message .*ENOENT/);
  });

  it('a hung sendmail is killed with its group at the budget', async () => {
    const started = Date.now();
    const r = await sendmail({ ...base(stubWith({ STUB_SENDMAIL_SLEEP: '30' }), AbortSignal.timeout(500)), body: Buffer.from('x\n') });
    expect(r).toEqual({ ok: false, why: expect.stringMatching(/time budget; process group killed/) });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
