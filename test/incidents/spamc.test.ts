/**
 * Incident replay 5 (issue 16): `spamc -t 100` did not bound time (its timeout is per read),
 * maildrop's 300 s timer fired and exited 75, and a shell wrapper turned that into a bounce.
 * Replayed through a real Postfix against the spamd fault matrix: not running (refused),
 * starting (accepts, never reads), overloaded (one worker, scans queue up), trickling (one
 * byte every 250 ms: a whole answer takes over a minute), hanging (reads, never answers) and
 * garbage (an HTTP error page). `mda deliver` is the mailbox_command itself, no wrapper
 * (`--config .../$EXTENSION.toml`: one config per fault and `on_failure`, all at once); `mda
 * lmtp` (mailbox_transport for a second user, by transport_maps) goes through the faults one
 * after the other, reloaded with SIGHUP. What must hold: every delivery ends inside its
 * deadline (Postfix's own `delays=` figure), long before command_time_limit, whose expiry
 * Postfix would bounce; the outcome is the configured one (`on_failure = "deliver"`: stored,
 * marked skipped; `"defer"`: deferred with a 4.x.x code, and delivered on the next queue run
 * once spamd is back); nothing bounces.
 * Needs root (Postfix, useradd); skipped with a warning otherwise, except in CI (CI=true)
 * or with MDA_E2E_REQUIRED=1.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllFakeScanners, refusedPort, startFakeScanner, type FakeScanner } from '../helpers/fake-scanner.js';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import { deliveryStatuses, freePort, installApp, listQueue, realstackSkipReason, runDir, startRealstack, stopRealstack, type Realstack, type UnixUser } from '../helpers/realstack.js';
import { bounceEvidence, hasUseradd, makeSystemUser, removeSystemUser, scanMark, sendBatch, storedByToken, waitOutcomes, type Job, type Outcome } from './mail-batch.js';
import { reportIncident } from './report.js';

const skipReason = realstackSkipReason(['postfix']) ?? (hasUseradd() ? null : 'useradd/userdel missing');
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/incidents/spamc.test.ts: ${skipReason} ***\n`);

const FAULTS = ['not-running', 'starting', 'overloaded', 'trickling', 'hanging', 'garbage'] as const;
type Fault = (typeof FAULTS)[number];
const POLICIES = ['deliver', 'defer'] as const;
type Policy = (typeof POLICIES)[number];
type Front = 'deliver' | 'lmtp';
const DEADLINE_S = 20;
const SCAN_TIMEOUT_S = 2;
/** Postfix bounces a command it has to kill at this limit: mda must never get there. */
const COMMAND_TIME_LIMIT_S = 60;
const USERS: Record<Front, string> = { deliver: 'mdaspamd', lmtp: 'mdaspaml' };
const RUN = randomBytes(3).toString('hex');
/** What a skipped scan may say for each fault (overloaded: some scans still make it in time). */
const SKIPS: Record<Fault, RegExp> = {
  'not-running': /^spamd=skipped \(refused\)$/,
  starting: /^spamd=skipped \(timeout\)$/,
  overloaded: /^spamd=(skipped \(timeout\)|clean)$/,
  trickling: /^spamd=skipped \(timeout\)$/,
  hanging: /^spamd=skipped \(timeout\)$/,
  garbage: /^spamd=skipped \(error\)$/,
};
const perCell = (f: Fault) => (f === 'overloaded' ? 4 : 2);

describe.skipIf(skipReason !== null && !required)('incident replay: the spamd fault matrix through Postfix, mda deliver and mda lmtp', () => {
  let DIR = '';
  let stack: Realstack;
  let server: LmtpServer | undefined;
  let stateDir = '';
  const users = {} as Record<Front, UnixUser>;
  const endpoint = {} as Record<Fault, string>;
  let healthy: FakeScanner;
  const held = new Set<net.Socket>();
  let starting: net.Server | undefined;
  const results: Array<Outcome & { front: Front; fault: Fault; policy: Policy }> = [];
  const retried = new Map<string, string>();
  const lmtpLog = () => path.join(DIR, 'lmtp.log');

  const config = (file: string, host: string, policy: Policy, extra: string[] = []) =>
    fs.writeFileSync(file, [
      '[log]', `target = "file:${path.join(DIR, path.basename(file, '.toml') === 'lmtp' ? 'lmtp.log' : 'deliver.log')}"`,
      '[delivery]', 'maildir = "~/Maildir"', `deadline = "${DEADLINE_S}s"`,
      // The breaker is the ClamAV replay's subject: here every delivery meets the fault itself.
      '[scanning]', `state_dir = "${stateDir}"`, 'breaker_failures = 1000',
      '[[scanner]]', 'type = "spamd"', `hosts = ["${host}"]`, `timeout = "${SCAN_TIMEOUT_S}s"`, `on_failure = "${policy}"`,
      ...extra, '',
    ].join('\n'), { mode: 0o644 });
  const cellConfig = (fault: Fault, policy: Policy) => path.join(DIR, 'cfg', `${fault}-${policy}.toml`);
  const lmtpConfig = () => path.join(DIR, 'lmtp.toml');
  const lmtpExtra = () => ['[lmtp]', `spool_dir = "${path.join(DIR, 'spool')}"`, 'socket_owner = "postfix"', 'socket_mode = "0600"'];
  const reloads = () => (fs.existsSync(lmtpLog()) ? fs.readFileSync(lmtpLog(), 'utf8').split('\n').filter((l) => l.includes('SIGHUP: configuration reloaded')).length : 0);
  async function reloadLmtp(host: string, policy: Policy): Promise<void> {
    const before = reloads();
    config(lmtpConfig(), host, policy, lmtpExtra());
    server!.child.kill('SIGHUP');
    for (let i = 0; reloads() === before; i++) {
      if (i > 200) throw new Error(`mda lmtp did not reload: ${fs.readFileSync(lmtpLog(), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    DIR = runDir('/tmp/mda-incident-spamc');
    fs.mkdirSync(path.join(DIR, 'cfg'), { recursive: true });
    fs.chmodSync(DIR, 0o755);
    fs.chmodSync(path.join(DIR, 'cfg'), 0o755);
    for (const f of ['deliver', 'lmtp'] as const) users[f] = makeSystemUser(USERS[f], DIR);
    stateDir = path.join(DIR, 'scan-state');
    fs.mkdirSync(stateDir, { mode: 0o1777 });
    fs.chmodSync(stateDir, 0o1777);
    fs.writeFileSync(path.join(DIR, 'deliver.log'), '', { mode: 0o600 });
    fs.chownSync(path.join(DIR, 'deliver.log'), users.deliver.uid, users.deliver.gid);

    // The matrix's spamds.
    endpoint['not-running'] = `127.0.0.1:${await refusedPort()}`;
    starting = net.createServer({ pauseOnConnect: true }, (s) => (held.add(s), s.on('close', () => held.delete(s))));
    await new Promise<void>((r) => starting!.listen(0, '127.0.0.1', r));
    endpoint.starting = `127.0.0.1:${(starting.address() as net.AddressInfo).port}`;
    endpoint.overloaded = (await startFakeScanner({ dialect: 'spamd', mode: 'slow', delayMs: 1500, workers: 1 })).endpoint;
    endpoint.trickling = (await startFakeScanner({ dialect: 'spamd', mode: 'trickle', delayMs: 250 })).endpoint;
    endpoint.hanging = (await startFakeScanner({ dialect: 'spamd', mode: 'hang' })).endpoint;
    endpoint.garbage = (await startFakeScanner({ dialect: 'spamd', mode: 'garbage' })).endpoint;
    healthy = await startFakeScanner({ dialect: 'spamd', mode: 'ok-clean' });
    for (const f of FAULTS) for (const p of POLICIES) config(cellConfig(f, p), endpoint[f], p);

    const mda = installApp(path.join(DIR, 'app'));
    // No wrapper: Postfix runs mda itself; $EXTENSION (user+fault-policy@) picks the cell's config.
    stack = startRealstack({
      dir: DIR, smtpPort: await freePort(), services: ['postfix'], mdaUser: USERS.deliver,
      mdaCommand: `${mda} deliver --config ${path.join(DIR, 'cfg')}/$EXTENSION.toml`, commandTimeLimit: `${COMMAND_TIME_LIMIT_S}s`,
    });
    const queueDir = execFileSync('postconf', ['-c', stack.postfixConfig, '-h', 'queue_directory'], { encoding: 'utf8' }).trim();
    execFileSync('postconf', ['-c', stack.postfixConfig, '-e', `transport_maps = inline:{ ${stack.sinkDomain}=sink:, ${USERS.lmtp}@${stack.domain}=lmtp:unix:private/mda }`]);
    config(lmtpConfig(), healthy.endpoint, 'deliver', lmtpExtra());
    server = await startLmtpServer({ listen: `unix:${path.join(queueDir, 'private', 'mda')}`, config: lmtpConfig(), mda });
    execFileSync('postfix', ['-c', stack.postfixConfig, 'reload'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500)); // master restarts its daemons with the new main.cf

    // mda deliver: every cell at once.
    const jobs: Array<Job & { fault: Fault; policy: Policy }> = [];
    for (const fault of FAULTS) for (const policy of POLICIES) for (let i = 0; i < perCell(fault); i++) {
      jobs.push({ fault, policy, tok: `spamc-${RUN}-deliver-${fault}-${policy}-${i}`, to: `${USERS.deliver}+${fault}-${policy}@${stack.domain}` });
    }
    const ids = await sendBatch(stack.smtpPort, jobs, 6);
    const outcomes = await waitOutcomes(stack.maillog, jobs, ids, 120_000);
    results.push(...outcomes.map((o, i) => ({ ...o, front: 'deliver' as const, fault: jobs[i]!.fault, policy: jobs[i]!.policy })));

    // mda lmtp: one fault after the other, on_failure alternating.
    for (const [k, fault] of FAULTS.entries()) {
      const policy = POLICIES[k % 2]!;
      await reloadLmtp(endpoint[fault], policy);
      const batch = Array.from({ length: perCell(fault) }, (_, i) => ({ fault, policy, tok: `spamc-${RUN}-lmtp-${fault}-${policy}-${i}`, to: `${USERS.lmtp}@${stack.domain}` }));
      const got = await waitOutcomes(stack.maillog, batch, await sendBatch(stack.smtpPort, batch), 120_000);
      results.push(...got.map((o, i) => ({ ...o, front: 'lmtp' as const, fault, policy: batch[i]!.policy })));
    }

    // spamd is back: every deferred message is delivered by the next queue run.
    for (const f of FAULTS) for (const p of POLICIES) config(cellConfig(f, p), healthy.endpoint, p);
    await reloadLmtp(healthy.endpoint, 'defer');
    const deferred = results.filter((r) => r.status === 'deferred');
    execFileSync('postqueue', ['-c', stack.postfixConfig, '-f']);
    for (let i = 0; i < 600 && retried.size < deferred.length; i++) {
      for (const r of deferred) {
        const last = deliveryStatuses(stack, r.queueId).at(-1);
        if (last && deliveryStatuses(stack, r.queueId).length > 1) retried.set(r.queueId, last.status);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }, 300_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    for (const s of held) s.destroy();
    await new Promise((r) => (starting ? starting.close(r) : r(undefined)));
    if (DIR) stopRealstack(DIR, { purge: true });
    await closeAllFakeScanners();
    for (const u of Object.values(USERS)) removeSystemUser(u);
  });

  const stored = (f: Front) => storedByToken(path.join(users[f].home, 'Maildir'));
  const describeOutcome = (r: (typeof results)[number]) => `${r.front} ${r.fault} on_failure=${r.policy}: ${r.status} ${r.dsn} (${r.text}) after ${r.agentSeconds}s`;

  it('nothing bounces: every status is sent or deferred (4.x.x), no bounce is generated, no status line says bounced', () => {
    expect(results.length).toBe(2 * FAULTS.reduce((n, f) => n + perCell(f), 0) + FAULTS.reduce((n, f) => n + perCell(f), 0));
    expect(results.filter((r) => !(r.status === 'sent' && r.dsn.startsWith('2.')) && !(r.status === 'deferred' && r.dsn.startsWith('4.'))).map(describeOutcome)).toEqual([]);
    expect(bounceEvidence(stack.maillog, stack.bounces)).toEqual([]);
  });

  it(`every delivery ends inside its deadline (${DEADLINE_S} s; Postfix's command_time_limit is ${COMMAND_TIME_LIMIT_S} s)`, () => {
    expect(results.filter((r) => r.agentSeconds > DEADLINE_S).map(describeOutcome)).toEqual([]);
  });

  it('on_failure = "deliver": stored once, marked skipped with the fault\'s reason', () => {
    const byTok = { deliver: stored('deliver'), lmtp: stored('lmtp') };
    const wrong = results
      .filter((r) => r.policy === 'deliver')
      .filter((r) => r.status !== 'sent' || (byTok[r.front].get(r.tok) ?? []).length !== 1 || !SKIPS[r.fault].test(scanMark(byTok[r.front].get(r.tok)![0]!)))
      .map((r) => `${describeOutcome(r)}; stored: ${(byTok[r.front].get(r.tok) ?? []).map(scanMark).join(', ') || 'none'}`);
    expect(wrong).toEqual([]);
  });

  it('on_failure = "defer": deferred with 4.3.0 and nothing stored (overloaded: scanned in time or deferred); delivered on the next queue run once spamd is back', () => {
    const wrong = results
      .filter((r) => r.policy === 'defer')
      .filter((r) => !(r.status === 'deferred' && r.dsn === '4.3.0') && !(r.fault === 'overloaded' && r.status === 'sent'))
      .map(describeOutcome);
    expect(wrong).toEqual([]);
    const deferred = results.filter((r) => r.status === 'deferred');
    expect(deferred.filter((r) => r.fault !== 'overloaded').length).toBeGreaterThan(0);
    expect(deferred.filter((r) => retried.get(r.queueId) !== 'sent').map(describeOutcome)).toEqual([]);
    for (const f of ['deliver', 'lmtp'] as const) {
      const byTok = stored(f);
      expect(deferred.filter((r) => r.front === f && (byTok.get(r.tok) ?? []).length !== 1).map((r) => r.tok)).toEqual([]);
    }
    expect(listQueue(stack)).toMatch(/Mail queue is empty/);
  });

  it('reports the figures', () => {
    const figures: Record<string, string | number> = {
      deadline_s: DEADLINE_S,
      worst_s: Math.max(...results.map((r) => r.agentSeconds)),
    };
    for (const fault of FAULTS) {
      const mine = results.filter((r) => r.fault === fault);
      const count = (s: string) => mine.filter((r) => r.status === s).length;
      figures[fault] = `sent:${count('sent')},deferred:${count('deferred')},worst:${Math.max(...mine.map((r) => r.agentSeconds))}s`;
    }
    figures.bounces = bounceEvidence(stack.maillog, stack.bounces).length;
    reportIncident('spamc', figures);
    expect(figures.bounces).toBe(0);
  });
});
