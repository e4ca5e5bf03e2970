/**
 * End to end: `relay_recipient_maps = hash:FILE`, FILE written by `mda recipients export
 * --output FILE` and built by Postfix's own `postmap`, on a real smtpd (scripts/realstack/up.sh)
 * that relays a domain (the front-MX set-up of README "Recipient map"). An address the map
 * lacks is refused at RCPT by smtpd itself (550 5.1.1 "User unknown in relay recipient
 * table") and never queued; the listed ones are accepted (relayed to Postfix's discard(8)
 * here: nothing leaves the host). Needs root and the postfix package; skipped with a
 * warning otherwise, except in CI (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, realstackSkipReason, runDir, startRealstack, stopRealstack, waitForStatus, type Realstack } from '../helpers/realstack.js';
import { SmtpError, smtpSend } from '../helpers/smtp-send.js';
import { runCli } from '../helpers/run-mda.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/e2e/postfix-recipient-map.test.ts: ${skipReason} ***\n`);

const RELAY = 'relay.test';
const SENDER = 'alice@sender.test';
/** A front MX's view: virtual users only (no system accounts in the map, so the list is fixed). */
const CONFIG = `[log]\ntarget = "none"\n[delivery]\ndomains = ["${RELAY}"]\n` +
  `[users."info@${RELAY}"]\nmaildir = "/srv/vmail/info"\n[users.carol]\nmaildir = "/srv/vmail/carol"\n`;

const token = () => `map-${Date.now()}-${randomBytes(4).toString('hex')}`;
const message = (tok: string) => `From: <${SENDER}>\nSubject: ${tok}\nMessage-ID: <${tok}@sender.test>\n\nbody ${tok}\n`;

/** The reply smtpd gave to RCPT TO, or the queue id if the message was accepted. */
async function send(stack: Realstack, to: string, tok: string): Promise<{ refused: string } | { queueId: string }> {
  try {
    return { queueId: (await smtpSend({ port: stack.smtpPort, from: SENDER, to, data: message(tok) })).queueId };
  } catch (err) {
    if (!(err instanceof SmtpError)) throw err;
    const i = err.transcript.findIndex((l) => l.startsWith('> RCPT TO:'));
    const reply = i >= 0 ? err.transcript.slice(i + 1).find((l) => /^< \d{3} /.test(l)) : undefined;
    if (!reply) throw err;
    return { refused: reply.slice(2) };
  }
}

describe.skipIf(skipReason !== null && !required)('relay_recipient_maps built by mda recipients export + postmap, on real Postfix smtpd', () => {
  let DIR = '';
  let MAP = '';
  let stack: Realstack;

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    DIR = runDir('/tmp/mda-e2e-recipient-map');
    fs.mkdirSync(DIR, { recursive: true });
    fs.chmodSync(DIR, 0o755);
    stack = startRealstack({ dir: DIR, smtpPort: await freePort(), services: ['postfix'] });
    const config = path.join(DIR, 'mda.toml');
    fs.writeFileSync(config, CONFIG);
    MAP = path.join(DIR, 'relay-recipients');
    // The cron line of README: `mda recipients export --output FILE && postmap hash:FILE`.
    const exported = await runCli(['recipients', 'export', '--config', config, '--virtual-only', '--output', MAP]);
    expect(exported).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(fs.readFileSync(MAP, 'utf8')).toBe(`carol@${RELAY} OK\ninfo@${RELAY} OK\n`);
    const built = spawnSync('postmap', ['-c', stack.postfixConfig, `hash:${MAP}`], { encoding: 'utf8' });
    expect({ status: built.status, stderr: built.stderr }).toEqual({ status: 0, stderr: '' });
    execFileSync('postconf', ['-c', stack.postfixConfig, '-e',
      `relay_domains = ${RELAY}`,
      `relay_recipient_maps = hash:${MAP}`,
      // Accepted relay mail goes to discard(8): proof of acceptance without a next hop.
      `transport_maps = inline:{ ${stack.sinkDomain}=sink:, ${RELAY}=discard: }`,
    ]);
    execFileSync('postfix', ['-c', stack.postfixConfig, 'reload'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500)); // master restarts smtpd with the new main.cf
  });

  afterAll(() => {
    if (DIR) stopRealstack(DIR, { purge: true });
  });

  it('RFC 5321 §4.2.2 (550) / RFC 3463 X.1.1: an address not in the exported map is refused at RCPT with 550 5.1.1 and never queued', async () => {
    const to = `mallory-${randomBytes(3).toString('hex')}@${RELAY}`;
    const r = await send(stack, to, token());
    expect(r).toEqual({ refused: `550 5.1.1 <${to}>: Recipient address rejected: User unknown in relay recipient table` });
    // postlogd writes the maillog a moment after smtpd answered: wait (bounded) for smtpd's record
    const rejected = new RegExp(`NOQUEUE: reject: RCPT from \\S+: 550 5\\.1\\.1 <${to}>: .*to=<${to}>`);
    let log = '';
    for (let i = 0; i < 100 && !rejected.test(log); i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 100));
      log = fs.readFileSync(stack.maillog, 'utf8');
    }
    expect(log).toMatch(rejected);
    expect(log).not.toMatch(new RegExp(`: [0-9A-Za-z]+: to=<${to}>`)); // no queue id ever had it
  });

  it('the exported addresses ([users."info@domain"] and [users.carol] per domain, any case) are accepted and relayed', async () => {
    for (const to of [`info@${RELAY}`, `carol@${RELAY}`, `Carol@Relay.Test`]) {
      const r = await send(stack, to, token());
      expect(r, to).toHaveProperty('queueId');
      const st = await waitForStatus(stack, (r as { queueId: string }).queueId);
      expect({ to, status: st.status, relay: st.relay }, st.line).toEqual({ to, status: 'sent', relay: 'none' });
    }
  });
});
