/**
 * End to end: a real Postfix smtpd (scripts/realstack/up.sh) asks `mda policy` through
 * `check_policy_service { inet:127.0.0.1:PORT, default_action=DUNNO }`. Mail to an unknown
 * user is refused at RCPT with 550 5.1.1 and never queued; a full mailbox is refused at
 * RCPT with 552 5.2.2, or 452 4.2.2 after a SIGHUP with over_quota = "defer"; valid mail,
 * an alias and postmaster are queued and delivered by `mda deliver`; with the policy
 * server stopped, default_action=DUNNO lets mail through.
 *
 * Postfix's own unknown-user check is switched off (`local_recipient_maps =`) so that a
 * refusal can only come from mda. Needs root and the postfix package; skipped with a
 * warning otherwise, except in CI (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, installApp, lookupUser, realstackSkipReason, runDir, startRealstack, stopRealstack, waitForStatus, type Realstack, type UnixUser } from '../helpers/realstack.js';
import { smtpSend } from '../helpers/smtp-send.js';
import { MDA } from '../helpers/run-mda.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/e2e/postfix-policy.test.ts: ${skipReason} ***\n`);

const SENDER = 'alice@sender.test';
let DIR = '';
let CONFIG = '';
let POLICY_CONFIG = '';
let POLICY_LOG = '';

const token = () => `policy-${Date.now()}-${randomBytes(4).toString('hex')}`;
const message = (tok: string) => `From: <${SENDER}>\nSubject: ${tok}\nMessage-ID: <${tok}@sender.test>\n\nbody ${tok}\n`;

/** Sends one message; the RCPT refusal line if smtpd refused, else the queue id. */
async function send(stack: Realstack, to: string, tok: string): Promise<{ refused: string } | { queueId: string }> {
  try {
    const { queueId } = await smtpSend({ port: stack.smtpPort, from: SENDER, to, data: message(tok) });
    return { queueId };
  } catch (err) {
    const line = /^< (\d{3} [^\n]*)$/m.exec(((err as Error).message.split('--- SMTP transcript ---')[1] ?? '').split('\n').filter((l) => /^< [45]\d\d /.test(l)).join('\n'));
    if (!line) throw err;
    return { refused: line[1]! };
  }
}

async function logMatch(re: RegExp): Promise<void> {
  for (let waited = 0; waited < 15_000; waited += 50) {
    if (fs.existsSync(POLICY_LOG) && re.test(fs.readFileSync(POLICY_LOG, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`policy log never matched ${re}`);
}

function writePolicyConfig(stack: Realstack, overQuota: 'bounce' | 'defer'): void {
  fs.writeFileSync(
    POLICY_CONFIG,
    `[log]\ntarget = "file:${POLICY_LOG}"\n[delivery]\nmaildir = "~/Maildir"\ndomains = ["${stack.domain}"]\n` +
      `[quota]\nover_quota = "${overQuota}"\n[policy]\naliases = ["${path.join(DIR, 'aliases')}"]\n` +
      // No cache: the mailbox fills between two tests a second apart (a cached "fits" would hold for cache_ttl).
      'cache_ttl = "0s"\n',
  );
}

describe.skipIf(skipReason !== null && !required)('mda policy behind real Postfix smtpd (check_policy_service)', () => {
  let stack: Realstack;
  let user: UnixUser;
  let policy: ChildProcess | undefined;
  let policyExit: Promise<number | null> | undefined;

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    DIR = runDir('/tmp/mda-e2e-policy');
    fs.mkdirSync(DIR, { recursive: true });
    fs.chmodSync(DIR, 0o755);
    CONFIG = path.join(DIR, 'mda.toml');
    POLICY_CONFIG = path.join(DIR, 'policy.toml');
    POLICY_LOG = path.join(DIR, 'policy.log');
    const mda = installApp(path.join(DIR, 'app'));
    fs.writeFileSync(CONFIG, '[delivery]\nmaildir = "~/Maildir"\n[log]\ntarget = "none"\n', { mode: 0o644 });
    stack = startRealstack({ dir: DIR, smtpPort: await freePort(), services: ['postfix'], mdaCommand: `${mda} deliver --config ${CONFIG}`, commandTimeLimit: '100s' });
    user = lookupUser(stack.mdaUser);
    fs.writeFileSync(path.join(DIR, 'aliases'), `postmaster: ${stack.mdaUser}\nhelpdesk: ${stack.mdaUser}\n`);
    writePolicyConfig(stack, 'bounce');

    const port = await freePort();
    policy = spawn(process.execPath, [MDA, 'policy', '--listen', `127.0.0.1:${port}`, '--config', POLICY_CONFIG], { stdio: 'ignore' });
    policyExit = new Promise((res) => policy!.on('exit', (code) => res(code)));
    await logMatch(/listening on 127\.0\.0\.1:/);

    const pc = stack.postfixConfig;
    execFileSync('postconf', ['-c', pc, '-e',
      `smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:${port}, default_action=DUNNO }`,
      'local_recipient_maps =',
      `alias_maps = inline:{ postmaster=${stack.mdaUser}, helpdesk=${stack.mdaUser} }`,
    ]);
    execFileSync('postfix', ['-c', pc, 'reload'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500)); // master restarts smtpd with the new main.cf
  });

  afterAll(() => {
    if (policy && policy.exitCode === null) policy.kill('SIGKILL');
    if (DIR) stopRealstack(DIR, { purge: true });
  });

  const maildirsize = () => path.join(user.home, 'Maildir', 'maildirsize');

  it('SMTPD_POLICY_README via smtpd: an unknown user is refused at RCPT with 550 5.1.1 and never queued', async () => {
    const r = await send(stack, `nosuchuser-${randomBytes(3).toString('hex')}@${stack.domain}`, token());
    expect(r).toEqual({ refused: expect.stringMatching(/^550 5\.1\.1 <[^>]+>: Recipient address rejected: User unknown$/) });
  });

  it('a known user, an alias and postmaster are queued and delivered', async () => {
    for (const to of [`${stack.mdaUser}@${stack.domain}`, `helpdesk@${stack.domain}`, `postmaster@${stack.domain}`]) {
      const r = await send(stack, to, token());
      expect(r, to).toHaveProperty('queueId');
      const st = await waitForStatus(stack, (r as { queueId: string }).queueId);
      expect(st.status, st.line).toBe('sent');
    }
  });

  it('RFC 3463 X.2.2: a full mailbox is refused at RCPT: 552 5.2.2, then 452 4.2.2 with over_quota = "defer"', async () => {
    fs.mkdirSync(path.dirname(maildirsize()), { recursive: true });
    fs.writeFileSync(maildirsize(), '1000S\n1000 3\n');
    fs.chownSync(maildirsize(), user.uid, user.gid);
    try {
      const r = await send(stack, `${stack.mdaUser}@${stack.domain}`, token());
      expect(r).toEqual({ refused: expect.stringMatching(/^552 5\.2\.2 <[^>]+>: Recipient address rejected: Mailbox full$/) });
      writePolicyConfig(stack, 'defer');
      policy!.kill('SIGHUP');
      await logMatch(/SIGHUP: configuration reloaded/);
      const d = await send(stack, `${stack.mdaUser}@${stack.domain}`, token());
      expect(d).toEqual({ refused: expect.stringMatching(/^452 4\.2\.2 <[^>]+>: Recipient address rejected: Mailbox full$/) });
    } finally {
      fs.rmSync(maildirsize(), { force: true });
    }
  });

  it('with the policy server stopped (SIGTERM, exit 0), default_action=DUNNO lets mail through', async () => {
    policy!.kill('SIGTERM');
    expect(await policyExit).toBe(0);
    const r = await send(stack, `${stack.mdaUser}@${stack.domain}`, token());
    expect(r).toHaveProperty('queueId');
    const st = await waitForStatus(stack, (r as { queueId: string }).queueId);
    expect(st.status, st.line).toBe('sent');
  });
});
