/**
 * Incident replay "flood" (issue 16; first written for issue 12): 500 msg/s of backscatter to an
 * address that had to be refused "very early, before any filtering". Bounces (null sender
 * `MAIL FROM:<>`, DSN-looking bodies) to one unknown address and to one over-quota mailbox,
 * mixed with real mail, from several concurrent SMTP clients, twice:
 *
 * 1. straight into the mda host's Postfix smtpd, which asks `mda policy` (check_policy_service)
 *    with Postfix's own unknown-user check off (`local_recipient_maps =`), so every refusal
 *    comes from mda: every bounce is refused at RCPT (550 5.1.1 / 552 5.2.2), so nothing of it
 *    is queued, the local system generates zero bounces, no scanner sees any of it, and every
 *    real message is delivered exactly once by `mda deliver` (mailbox_command) after one scan;
 * 2. into a front MX (a second Postfix relaying the domain to the mda host) whose
 *    `relay_recipient_maps` is the map `mda recipients export` wrote (built with postmap) and
 *    which asks the same `mda policy` only after that map (`reject_unlisted_recipient` first):
 *    the unknown address is refused by smtpd itself and the policy service is never asked about
 *    it (a counting proxy sits in front of it); the full mailbox is refused by the policy; real
 *    mail is relayed and delivered once.
 *
 * Figures (reportIncident 'flood'): the policy server's CPU per refused message (from /proc,
 * over each flood), refusals, policy requests, bounces generated, scans of bounces.
 * 500 bounces per flood by default (CI); `MDA_INCIDENT_FULL=1` (npm run incidents:full) 5,000.
 * The spamd is a counting fake on 127.0.0.1 answering ham (test/helpers/fake-scanner.ts): the
 * point is that it is never asked. Needs root and postfix; skipped with a warning otherwise,
 * except in CI (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllFakeScanners, startFakeScanner, type FakeScanner } from '../helpers/fake-scanner.js';
import { clockTicks, cpuSeconds } from '../helpers/proc-cpu.js';
import { deliveryStatuses, freePort, installApp, listQueue, lookupUser, realstackSkipReason, runDir, startRealstack, stopRealstack, type Realstack, type UnixUser } from '../helpers/realstack.js';
import { SmtpError, smtpSend } from '../helpers/smtp-send.js';
import { MDA, runCli } from '../helpers/run-mda.js';
import { reportIncident } from './report.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/incidents/flood.test.ts: ${skipReason} ***\n`);

const FULL = process.env.MDA_INCIDENT_FULL === '1';
const BOUNCES = FULL ? 5_000 : 500;
const REAL = 50;
/** Real messages through the front MX (relayed to the mda host): enough to prove the path. */
const FRONT_REAL = 10;
/** Concurrent SMTP clients, as many sending MTAs would be (one message per connection). */
const CLIENTS = 10;
/** Own users, not the shared `mdatest`: other e2e files fill that mailbox's maildirsize on purpose. */
const REAL_USER = 'mdaincident';
const FULL_USER = 'mdaincfull';
const UNKNOWN = 'nosuchuser';
const SENDER = 'alice@sender.test';
const RUN = `${Date.now()}-${randomBytes(3).toString('hex')}`;

const userExists = (name: string) => spawnSync('id', [name], { stdio: 'ignore' }).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bounce as a remote MTA sends it: null sender, multipart/report (RFC 3464) body. */
const bounceMessage = (tok: string, to: string) =>
  `From: Mail Delivery System <MAILER-DAEMON@remote.example>\nTo: <${to}>\nSubject: Undelivered Mail Returned to Sender\n` +
  `Message-ID: <${tok}@remote.example>\nMIME-Version: 1.0\n` +
  `Content-Type: multipart/report; report-type=delivery-status; boundary="b-${tok}"\n\n` +
  `--b-${tok}\nContent-Type: text/plain\n\nThis is the mail system at host remote.example.\nYour message could not be delivered.\n` +
  `--b-${tok}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; remote.example\n\n` +
  `Final-Recipient: rfc822; someone@remote.example\nAction: failed\nStatus: 5.1.1\n--b-${tok}--\n`;
const realMessage = (tok: string) => `From: <${SENDER}>\nSubject: ${tok}\nMessage-ID: <${tok}@sender.test>\n\nreal mail ${tok}\n`;

/** via: straight into the mda host's smtpd ('mx') or into the front MX ('front'). */
type Job = { kind: 'unknown' | 'full' | 'real'; via: 'mx' | 'front'; tok: string; to: string };
type Result = { job: Job; refused?: string; queueId?: string; error?: string };

/** The RCPT refusal the client saw, from smtp-send's transcript. */
function refusalOf(err: unknown): string | undefined {
  if (!(err instanceof SmtpError)) return undefined;
  const i = err.transcript.findIndex((l) => l.startsWith('> RCPT TO:'));
  const reply = i >= 0 ? err.transcript.slice(i + 1).find((l) => /^< \d{3} /.test(l)) : undefined;
  return reply?.slice(2);
}

/** BOUNCES bounces alternating between the unknown and the full address, a real message every BOUNCES/real. */
function floodJobs(via: Job['via'], domain: string, real: number): Job[] {
  const jobs: Job[] = [];
  const every = Math.floor(BOUNCES / real);
  for (let i = 0, r = 0; i < BOUNCES; i++) {
    if (i % every === 0 && r < real) jobs.push({ kind: 'real', via, tok: `real-${via}-${RUN}-${r++}`, to: `${REAL_USER}@${domain}` });
    const unknown = i % 2 === 0;
    jobs.push({ kind: unknown ? 'unknown' : 'full', via, tok: `bounce-${via}-${RUN}-${i}`, to: unknown ? `${UNKNOWN}@${domain}` : `${FULL_USER}@${domain}` });
  }
  return jobs;
}

/** Sends every job from CLIENTS concurrent clients, one message per connection; collects into results. */
async function flood(port: number, jobs: Job[], results: Result[]): Promise<void> {
  let next = 0;
  const client = async () => {
    for (let j = jobs[next++]; j; j = jobs[next++]) {
      const job = j;
      try {
        const data = job.kind === 'real' ? realMessage(job.tok) : bounceMessage(job.tok, job.to);
        const { queueId } = await smtpSend({ port, from: job.kind === 'real' ? SENDER : '', to: job.to, data, timeoutMs: 60_000 });
        results.push({ job, queueId });
      } catch (err) {
        const refused = refusalOf(err);
        results.push(refused ? { job, refused } : { job, error: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
}

/**
 * A TCP proxy in front of the policy server that records the recipient of every policy request
 * it passes on (SMTPD_POLICY_README: attribute lines, an empty line ends a request).
 */
function countingProxy(target: number): Promise<{ port: number; recipients: string[]; close: () => void }> {
  const recipients: string[] = [];
  const conns = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    const up = net.connect({ host: '127.0.0.1', port: target });
    conns.add(c).add(up);
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('recipient=')) recipients.push(line.slice('recipient='.length).toLowerCase());
      }
    });
    c.pipe(up).pipe(c);
    const end = () => (c.destroy(), up.destroy());
    c.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  return new Promise((res) =>
    srv.listen(0, '127.0.0.1', () =>
      res({ port: (srv.address() as net.AddressInfo).port, recipients, close: () => (srv.close(), conns.forEach((s) => s.destroy())) }),
    ),
  );
}

describe.skipIf(skipReason !== null && !required)(`incident replay: flood (${BOUNCES} bounces + ${REAL} real messages, then again through a front MX) through Postfix and mda policy`, () => {
  let DIR = '';
  let FRONT_DIR = '';
  let stack: Realstack;
  let front: Realstack;
  let real: UnixUser;
  let spamd: FakeScanner;
  let policy: ChildProcess | undefined;
  let proxy: Awaited<ReturnType<typeof countingProxy>> | undefined;
  const created: string[] = [];
  const results: Result[] = [];
  /** The policy server's CPU seconds over each flood. */
  const cpu = { mx: 0, front: 0 };

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    DIR = runDir('/tmp/mda-incident-flood');
    fs.mkdirSync(DIR, { recursive: true });
    fs.chmodSync(DIR, 0o755);
    for (const u of [REAL_USER, FULL_USER]) {
      if (userExists(u)) continue;
      execFileSync('useradd', ['-m', '--shell', '/usr/sbin/nologin', u], { stdio: 'ignore' });
      created.push(u);
    }
    const full = lookupUser(FULL_USER);
    real = lookupUser(REAL_USER);
    fs.rmSync(path.join(real.home, 'Maildir'), { recursive: true, force: true });
    // The honeypot mailbox at its limit (Maildir++ maildirsize: 1000 bytes allowed, 1000 used).
    fs.rmSync(path.join(full.home, 'Maildir'), { recursive: true, force: true });
    fs.mkdirSync(path.join(full.home, 'Maildir'), { mode: 0o700 });
    fs.writeFileSync(path.join(full.home, 'Maildir', 'maildirsize'), '1000S\n1000 3\n');
    execFileSync('chown', ['-R', `${full.uid}:${full.gid}`, path.join(full.home, 'Maildir')]);

    spamd = await startFakeScanner({ dialect: 'spamd', mode: 'ok-clean' });
    const stateDir = path.join(DIR, 'scan-state');
    fs.mkdirSync(stateDir, { mode: 0o1777 });
    fs.chmodSync(stateDir, 0o1777);
    const config = path.join(DIR, 'mda.toml');
    fs.writeFileSync(config, [
      '[log]', 'target = "none"',
      '[delivery]', 'maildir = "~/Maildir"',
      '[scanning]', `state_dir = "${stateDir}"`,
      '[[scanner]]', 'type = "spamd"', `hosts = ["${spamd.endpoint}"]`, 'timeout = "30s"', 'on_failure = "defer"',
    ].join('\n') + '\n', { mode: 0o644 });
    const mda = installApp(path.join(DIR, 'app'));
    stack = startRealstack({ dir: DIR, smtpPort: await freePort(), services: ['postfix'], mdaUser: REAL_USER, mdaCommand: `${mda} deliver --config ${config}`, commandTimeLimit: '100s' });

    const aliases = path.join(DIR, 'aliases');
    fs.writeFileSync(aliases, `postmaster: ${REAL_USER}\n`);
    const policyConfig = path.join(DIR, 'policy.toml');
    const policyLog = path.join(DIR, 'policy.log');
    fs.writeFileSync(policyConfig,
      `[log]\ntarget = "file:${policyLog}"\n[delivery]\nmaildir = "~/Maildir"\ndomains = ["${stack.domain}"]\n` +
        `[quota]\nover_quota = "bounce"\n[policy]\naliases = ["${aliases}"]\n` +
        // The proof is about what Postfix does with mda's answers; on a shared 2-core CI machine the
        // default 2 s budget could run out under the flood and answer DUNNO (by design: never refuse
        // good mail on its own trouble; proven in test/integration/policy-server.test.ts).
        'request_timeout = "20s"\n');
    const port = await freePort();
    policy = spawn(process.execPath, [MDA, 'policy', '--listen', `127.0.0.1:${port}`, '--config', policyConfig], { stdio: 'ignore' });
    for (let waited = 0; !(fs.existsSync(policyLog) && /listening on 127\.0\.0\.1:/.test(fs.readFileSync(policyLog, 'utf8'))); waited += 50) {
      if (waited > 15_000) throw new Error('mda policy never logged "listening"');
      await sleep(50);
    }
    execFileSync('postconf', ['-c', stack.postfixConfig, '-e',
      `smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:${port}, default_action=DUNNO }`,
      'local_recipient_maps =',
      `alias_maps = inline:{ postmaster=${REAL_USER} }`,
    ]);
    execFileSync('postfix', ['-c', stack.postfixConfig, 'reload'], { stdio: 'ignore' });
    await sleep(1500); // master restarts smtpd with the new main.cf

    // The front MX: relays the domain to the mda host, refuses what the exported map lacks, then
    // asks the same policy server (through the counting proxy) about the rest.
    FRONT_DIR = runDir('/tmp/mda-incident-flood-front');
    fs.mkdirSync(FRONT_DIR, { recursive: true });
    fs.chmodSync(FRONT_DIR, 0o755);
    front = startRealstack({ dir: FRONT_DIR, smtpPort: await freePort(), services: ['postfix'], mdaUser: REAL_USER, env: { REALSTACK_DOMAIN: 'front.test' } });
    const map = path.join(FRONT_DIR, 'relay-recipients');
    // README "Recipient map": `mda recipients export --output FILE && postmap hash:FILE`
    const exported = await runCli(['recipients', 'export', '--config', policyConfig, '--output', map]);
    expect(exported).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const listed = fs.readFileSync(map, 'utf8');
    expect(listed).toContain(`${REAL_USER}@${stack.domain} OK\n`);
    expect(listed).toContain(`${FULL_USER}@${stack.domain} OK\n`);
    expect(listed).not.toContain(`${UNKNOWN}@`);
    execFileSync('postmap', ['-c', front.postfixConfig, `hash:${map}`]);
    proxy = await countingProxy(port);
    execFileSync('postconf', ['-c', front.postfixConfig, '-M', 'smtp/unix=smtp unix - - n - - smtp']);
    execFileSync('postconf', ['-c', front.postfixConfig, '-e',
      `relay_domains = ${stack.domain}`,
      `relay_recipient_maps = hash:${map}`,
      `smtpd_recipient_restrictions = reject_unlisted_recipient, check_policy_service { inet:127.0.0.1:${proxy.port}, default_action=DUNNO }`,
      `transport_maps = inline:{ ${front.sinkDomain}=sink:, ${stack.domain}=smtp:[127.0.0.1]:${stack.smtpPort} }`,
    ]);
    execFileSync('postfix', ['-c', front.postfixConfig, 'reload'], { stdio: 'ignore' });
    await sleep(1500);

    const ticks = clockTicks();
    let c0 = cpuSeconds(policy.pid!, ticks);
    await flood(stack.smtpPort, floodJobs('mx', stack.domain, REAL), results);
    cpu.mx = cpuSeconds(policy.pid!, ticks) - c0;
    c0 = cpuSeconds(policy.pid!, ticks);
    await flood(front.smtpPort, floodJobs('front', stack.domain, FRONT_REAL), results);
    cpu.front = cpuSeconds(policy.pid!, ticks) - c0;
  }, FULL ? 1_200_000 : 240_000);

  afterAll(async () => {
    proxy?.close();
    if (policy && policy.exitCode === null) policy.kill('SIGKILL');
    if (FRONT_DIR) stopRealstack(FRONT_DIR, { purge: true });
    if (DIR) stopRealstack(DIR, { purge: true });
    await closeAllFakeScanners();
    for (const u of created) spawnSync('userdel', ['-r', u], { stdio: 'ignore' });
  });

  const of = (kind: Job['kind'], via?: Job['via']) => results.filter((r) => r.job.kind === kind && (via === undefined || r.job.via === via));
  const lines = (s: Realstack) => fs.readFileSync(s.maillog, 'utf8').split('\n');

  it('every bounce is refused at RCPT: 550 5.1.1 for the unknown address, 552 5.2.2 for the full mailbox (RFC 3463 X.1.1, X.2.2)', async () => {
    expect(results.filter((r) => r.error).map((r) => r.error)).toEqual([]);
    const unknown = of('unknown', 'mx');
    const full = of('full', 'mx');
    expect(unknown.length + full.length).toBe(BOUNCES);
    const wrong = [
      ...unknown.filter((r) => !new RegExp(`^550 5\\.1\\.1 <${UNKNOWN}@[^>]+>: Recipient address rejected: User unknown$`).test(r.refused ?? '')),
      ...full.filter((r) => !new RegExp(`^552 5\\.2\\.2 <${FULL_USER}@[^>]+>: Recipient address rejected: Mailbox full$`).test(r.refused ?? '')),
    ].map((r) => `${r.job.to}: ${r.refused ?? `queued as ${r.queueId}`}`);
    expect(wrong).toEqual([]);
    // smtpd's own record: one NOQUEUE reject per bounce, none of them ever got a queue id
    // (postlogd writes a moment after smtpd answered: wait, bounded, for the last lines)
    const rejects = () => lines(stack).filter((l) => /NOQUEUE: reject: RCPT from .*: 55[02] 5\.[12]\.[12] .*from=<> /.test(l));
    for (let i = 0; i < 100 && rejects().length < BOUNCES; i++) await sleep(100);
    expect(rejects()).toHaveLength(BOUNCES);
  });

  it('front MX: the unknown address is refused by the exported map (550 5.1.1 relay recipient table) and the policy service is never asked about it; the full mailbox gets 552 5.2.2 from the policy', () => {
    const unknown = of('unknown', 'front');
    const full = of('full', 'front');
    expect(unknown.length + full.length).toBe(BOUNCES);
    const wrong = [
      ...unknown.filter((r) => !new RegExp(`^550 5\\.1\\.1 <${UNKNOWN}@[^>]+>: Recipient address rejected: User unknown in relay recipient table$`).test(r.refused ?? '')),
      ...full.filter((r) => !new RegExp(`^552 5\\.2\\.2 <${FULL_USER}@[^>]+>: Recipient address rejected: Mailbox full$`).test(r.refused ?? '')),
    ].map((r) => `${r.job.to}: ${r.refused ?? `queued as ${r.queueId}`}`);
    expect(wrong).toEqual([]);
    const asked = proxy!.recipients;
    expect(asked.filter((r) => r.startsWith(`${UNKNOWN}@`))).toEqual([]);
    expect(asked.filter((r) => r.startsWith(`${FULL_USER}@`))).toHaveLength(full.length);
    expect(asked.filter((r) => r.startsWith(`${REAL_USER}@`))).toHaveLength(FRONT_REAL);
  });

  it(`all ${REAL} + ${FRONT_REAL} real messages are queued and delivered (status=sent; through the front MX relayed to the mda host), and both queues end empty`, async () => {
    const waitSent = async (s: Realstack, queued: string[]) => {
      expect(queued.filter((q) => !/^[0-9A-Za-z]+$/.test(q))).toEqual([]);
      const bound = Date.now() + (FULL ? 600_000 : 90_000);
      let pending = queued;
      while (pending.length > 0 && Date.now() < bound) {
        pending = pending.filter((q) => deliveryStatuses(s, q).length === 0);
        if (pending.length > 0) await sleep(200);
      }
      expect(pending, `no status yet; queue:\n${listQueue(s)}`).toEqual([]);
      expect(queued.flatMap((q) => deliveryStatuses(s, q)).filter((st) => st.status !== 'sent').map((st) => st.line)).toEqual([]);
    };
    const queued = (via: Job['via']) => of('real', via).map((r) => r.queueId ?? `(refused: ${r.refused})`);
    expect(queued('mx')).toHaveLength(REAL);
    expect(queued('front')).toHaveLength(FRONT_REAL);
    await waitSent(stack, queued('mx'));
    await waitSent(front, queued('front'));
    for (const s of [front, stack]) {
      let queue = listQueue(s);
      for (let i = 0; i < 100 && !/Mail queue is empty/.test(queue); i++) {
        await sleep(200);
        queue = listQueue(s);
      }
      expect(queue).toMatch(/Mail queue is empty/);
    }
  }, FULL ? 700_000 : 120_000);

  it('the local system generated zero bounces: no MAILER-DAEMON message in the queue, the log or the sink (mda host and front MX)', () => {
    for (const s of [stack, front]) {
      // A bounce Postfix makes is a new queue file with the null sender (qmgr logs from=<>),
      // and bounce(8) logs "sender non-delivery notification" (or "postmaster ..." for a double bounce).
      expect(lines(s).filter((l) => / from=<>, size=/.test(l))).toEqual([]);
      expect(lines(s).filter((l) => /non-delivery notification|status=bounced|status=deferred/.test(l))).toEqual([]);
      expect(listQueue(s)).not.toMatch(/MAILER-DAEMON/);
      const sink = fs.existsSync(s.bounces) ? fs.readdirSync(s.bounces).filter((n) => n.endsWith('.eml')) : [];
      expect(sink).toEqual([]);
    }
  });

  it('each real message is in the Maildir exactly once, scanned, and no bounce reached the mailbox', () => {
    const texts = ['new', 'cur'].flatMap((sub) => {
      const d = path.join(real.home, 'Maildir', sub);
      return fs.existsSync(d) ? fs.readdirSync(d).map((n) => fs.readFileSync(path.join(d, n), 'latin1')) : [];
    });
    const ids = texts.map((t) => /^Message-ID: <([^@>]+)@/m.exec(t)?.[1] ?? '(none)');
    expect(ids.sort()).toEqual(of('real').map((r) => r.job.tok).sort());
    expect(texts.filter((t) => !/^X-MDA-Scan: spamd=clean$/m.test(t))).toEqual([]);
  });

  it(`the scanner was called exactly ${REAL + FRONT_REAL} times, once per real message, never for a refused one`, () => {
    const scans = spamd.received.filter((r) => r.command !== 'PING');
    const scanned = scans.map((r) => /^Message-ID: <([^@>]+)@/m.exec(r.body.toString('latin1'))?.[1] ?? '(none)');
    expect(scanned.filter((t) => t.startsWith('bounce-'))).toEqual([]);
    expect(scanned.sort()).toEqual(of('real').map((r) => r.job.tok).sort());
    expect(scans).toHaveLength(REAL + FRONT_REAL);
  });

  it('figures: the policy server\'s CPU per refused message, with and without the front MX map', () => {
    const refused = (via: Job['via']) => results.filter((r) => r.job.via === via && r.refused).length;
    const byPolicy = { mx: refused('mx'), front: of('full', 'front').filter((r) => r.refused).length };
    expect(byPolicy.mx).toBe(BOUNCES);
    const bouncesGenerated = [stack, front].reduce((n, s) => n + lines(s).filter((l) => / from=<>, size=/.test(l)).length, 0);
    const scansOfBounces = spamd.received.filter((r) => r.command !== 'PING' && /^Message-ID: <bounce-/m.test(r.body.toString('latin1'))).length;
    reportIncident('flood', {
      bounces: BOUNCES,
      refused_at_rcpt: refused('mx') + refused('front'),
      policy_cpu_ms_per_refused: (1000 * cpu.mx) / Math.max(byPolicy.mx, 1),
      front_refused_by_map: of('unknown', 'front').filter((r) => /relay recipient table$/.test(r.refused ?? '')).length,
      front_policy_requests_for_unknown: proxy!.recipients.filter((r) => r.startsWith(`${UNKNOWN}@`)).length,
      front_policy_cpu_ms_per_refused: (1000 * cpu.front) / Math.max(refused('front'), 1),
      bounces_generated: bouncesGenerated,
      scans_of_bounces: scansOfBounces,
    });
    expect(Number.isFinite(cpu.mx) && Number.isFinite(cpu.front)).toBe(true);
  });
});
