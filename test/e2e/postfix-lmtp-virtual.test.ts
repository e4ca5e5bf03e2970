/**
 * End to end: a real Postfix (scripts/realstack/up.sh) with a virtual domain
 * (virtual_mailbox_domains, a virtual_mailbox_maps hash made by postmap, with a
 * catch-all so that smtpd accepts any address and the refusal is mda's) and
 * `virtual_transport = lmtp:inet:127.0.0.1:PORT`, the built `mda lmtp` started
 * as root with `[lmtp] user = "nobody"` (virtual users mode) and
 * `[users."alice@virt.example"]` entries. Checks what Postfix's lmtp(8) client
 * makes of mda's replies: delivery; an unknown user refused at RCPT (bounced
 * 5.1.1 without DATA); three recipients, one over quota with over_quota =
 * "defer" (two delivered at once, the third by the retry once space is freed);
 * and the server restarted (SIGTERM, start again) in the middle of a flood of
 * 200 messages from several SMTP clients: each stored exactly once.
 *
 * Needs root and the postfix package; skipped with a warning otherwise, except
 * in CI (CI=true) or with MDA_E2E_REQUIRED=1. Build first (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLmtpServer, type LmtpServer } from '../helpers/lmtp-server.js';
import {
  bouncesFor,
  deliveryStatuses,
  freePort,
  installApp,
  listQueue,
  maillogLines,
  realstackSkipReason,
  runDir,
  startRealstack,
  stopRealstack,
  waitForBounce,
  type DeliveryStatus,
  type Realstack,
} from '../helpers/realstack.js';
import { smtpSend, SmtpError } from '../helpers/smtp-send.js';

const skipReason = realstackSkipReason(['postfix']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/e2e/postfix-lmtp-virtual.test.ts: ${skipReason} ***\n`);

const DOMAIN = 'virt.example';
const SENDER = 'alice@sender.test';
const VUSERS = ['alice', 'bob', 'carol', 'flood'];
const NOBODY = 65534;
const FLOOD = 200;
const FLOOD_CLIENTS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function message(tok: string): string {
  return [`From: Alice <${SENDER}>`, `Subject: lmtp ${tok}`, `Message-ID: <${tok}@sender.test>`, '', `Hello ${tok}.`, '.a dot line', ''].join('\n');
}

const toOf = (s: DeliveryStatus) => /: to=<([^>]*)>/.exec(s.line)?.[1] ?? '';

describe.skipIf(skipReason !== null && !required)('mda lmtp as Postfix virtual_transport (real Postfix, virtual users)', () => {
  let dir = '';
  let stack: Realstack;
  let mda = '';
  let port = 0;
  let config = '';
  let vmail = '';
  let server: LmtpServer | undefined;

  const start = async () => (server = await startLmtpServer({ listen: `127.0.0.1:${port}`, config, mda }));
  const postfix = (...args: string[]) => execFileSync('postfix', ['-c', stack.postfixConfig, ...args], { encoding: 'utf8' });
  const flush = () => execFileSync('postqueue', ['-c', stack.postfixConfig, '-f']);
  const stored = (user: string, tok?: string) => {
    const nd = path.join(vmail, user, 'new');
    const names = fs.existsSync(nd) ? fs.readdirSync(nd) : [];
    return names.map((n) => path.join(nd, n)).filter((f) => tok === undefined || fs.readFileSync(f, 'latin1').includes(tok));
  };
  /** send: one message over its own SMTP connection; retried while a pre-reload smtpd still says "Relay access denied". */
  async function send(to: string | string[], data: string): Promise<string> {
    for (let i = 0; ; i++) {
      try {
        return (await smtpSend({ port: stack.smtpPort, from: SENDER, to, data, timeoutMs: 30_000 })).queueId;
      } catch (err) {
        if (!(err instanceof SmtpError) || !/Relay access denied/.test(err.message) || i > 50) throw err;
        await sleep(100);
      }
    }
  }
  /** Wait (bounded) until every (queue id, recipient) pair has status=sent, flushing the deferred queue now and then. */
  async function waitAllSent(pairs: Array<[string, string]>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 1; ; i++) {
      const missing = pairs.filter(([q, to]) => !deliveryStatuses(stack, q).some((s) => s.status === 'sent' && toOf(s) === to));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${missing.length} not delivered, e.g. ${missing[0]![0]}:\n${maillogLines(stack, missing[0]![0])}\nqueue:\n${listQueue(stack)}`);
      if (i % 20 === 0) flush();
      await sleep(100);
    }
  }

  beforeAll(async () => {
    if (skipReason) throw new Error(`e2e prerequisites missing (required here): ${skipReason}`);
    dir = runDir('/tmp/mda-e2e-lmtp-virtual');
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    mda = installApp(path.join(dir, 'app'));
    port = await freePort();
    stack = startRealstack({ dir, smtpPort: await freePort(), services: ['postfix'] });

    // The virtual domain: a hash map built with postmap, with a catch-all so unknown users reach mda.
    const map = path.join(dir, 'vmailbox');
    fs.writeFileSync(map, [...VUSERS.map((u) => `${u}@${DOMAIN} ${u}/`), `@${DOMAIN} catchall/`, ''].join('\n'));
    execFileSync('postmap', ['-c', stack.postfixConfig, `hash:${map}`]);
    execFileSync('postconf', ['-c', stack.postfixConfig, '-e',
      `virtual_mailbox_domains = ${DOMAIN}`, `virtual_mailbox_maps = hash:${map}`, `virtual_transport = lmtp:inet:127.0.0.1:${port}`]);
    const past = Date.now() / 1000 - 10; // a "cool" main.cf: Postfix re-reads one changed in the last seconds
    fs.utimesSync(path.join(stack.postfixConfig, 'main.cf'), past, past);
    postfix('reload');

    // The mail tree belongs to the [lmtp] user; nobody else can read it.
    vmail = path.join(dir, 'vmail');
    fs.mkdirSync(vmail, { mode: 0o700 });
    for (const u of VUSERS) fs.mkdirSync(path.join(vmail, u), { mode: 0o700 });
    for (const p of [vmail, ...VUSERS.map((u) => path.join(vmail, u))]) fs.chownSync(p, NOBODY, NOBODY);
    config = path.join(dir, 'mda.toml');
    fs.writeFileSync(config, [
      '[delivery]', 'deadline = "60s"', '[quota]', 'over_quota = "defer"',
      '[log]', `target = "file:${path.join(dir, 'mda.log')}"`,
      '[lmtp]', 'user = "nobody"', `spool_dir = "${path.join(vmail, '.spool')}"`, 'shutdown_grace = "20s"',
      ...VUSERS.flatMap((u) => [`[users."${u}@${DOMAIN}"]`, `maildir = "${path.join(vmail, u)}"`]), '',
    ].join('\n'));
    await start();
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    if (dir) stopRealstack(dir, { purge: true });
  });

  it('RFC 2033 §4.2: a virtual user is delivered (status=sent via LMTP), byte-exact behind Return-Path and Delivered-To, owned by the [lmtp] user', async () => {
    const tok = `virt-${randomBytes(4).toString('hex')}`;
    const q = await send(`alice@${DOMAIN}`, message(tok));
    await waitAllSent([[q, `alice@${DOMAIN}`]], 20_000);
    const files = stored('alice', tok);
    expect(files).toHaveLength(1);
    const text = fs.readFileSync(files[0]!, 'utf8');
    expect(text.startsWith(`Return-Path: <${SENDER}>\nDelivered-To: alice@${DOMAIN}\nReceived: from `)).toBe(true);
    expect(text.endsWith(`\n${message(tok)}`)).toBe(true);
    expect(fs.statSync(files[0]!).uid).toBe(NOBODY);
  });

  it('RFC 3463 X.1.1: an unknown virtual user is refused at RCPT (550 5.1.1): Postfix bounces it without sending DATA, mda stores nothing', async () => {
    const tok = `virt-${randomBytes(4).toString('hex')}`;
    const q = await send(`nosuchuser@${DOMAIN}`, message(tok));
    for (let i = 0; deliveryStatuses(stack, q).length === 0; i++) {
      if (i > 200) throw new Error(`no status for ${q}:\n${maillogLines(stack, q)}`);
      await sleep(100);
    }
    const st = deliveryStatuses(stack, q)[0]!;
    expect(st.status, st.line).toBe('bounced');
    expect(st.dsn).toBe('5.1.1');
    // The refusal answered RCPT TO: Postfix's lmtp(8) sends no DATA when no recipient was accepted.
    expect(st.text).toMatch(/said: 550 5\.1\.1 .*\(in reply to RCPT TO command\)/);
    const bounce = await waitForBounce(stack, q);
    expect(bounce).toMatch(/Status: 5\.1\.1/);
    expect(bouncesFor(stack, q)).toHaveLength(1);
    for (const u of VUSERS) expect(stored(u, tok)).toEqual([]);
    expect(fs.existsSync(path.join(vmail, 'catchall'))).toBe(false);
    expect(fs.readdirSync(path.join(vmail, '.spool', 'tmp'))).toEqual([]);
  });

  it('RFC 2033 §4.2 / RFC 3463 X.2.2: three recipients, one over quota with over_quota = "defer": two delivered at once, the third deferred (452 4.2.2) and delivered by the retry once space is freed', async () => {
    const sizeFile = path.join(vmail, 'carol', 'maildirsize');
    fs.writeFileSync(sizeFile, '1000S\n1000 1\n'); // maildirmake -q style header: carol's mailbox is full
    fs.chownSync(sizeFile, NOBODY, NOBODY);
    const tok = `virt-${randomBytes(4).toString('hex')}`;
    const rcpts = ['alice', 'bob', 'carol'].map((u) => `${u}@${DOMAIN}`);
    const q = await send(rcpts, message(tok));
    await waitAllSent([[q, rcpts[0]!], [q, rcpts[1]!]], 20_000);
    for (let i = 0; !deliveryStatuses(stack, q).some((s) => toOf(s) === rcpts[2]); i++) {
      if (i > 200) throw new Error(`no status for carol:\n${maillogLines(stack, q)}`);
      await sleep(100);
    }
    const carol = deliveryStatuses(stack, q).find((s) => toOf(s) === rcpts[2])!;
    expect(carol.status, carol.line).toBe('deferred');
    expect(carol.dsn).toBe('4.2.2');
    expect(carol.text).toMatch(/said: 452 4\.2\.2 .*\(in reply to RCPT TO command\)/);
    expect([stored('alice', tok).length, stored('bob', tok).length, stored('carol', tok).length]).toEqual([1, 1, 0]);
    // Several recipients: no Delivered-To (one spool shared by hard link, as Dovecot LMTP does).
    expect(fs.readFileSync(stored('bob', tok)[0]!, 'utf8')).not.toContain('Delivered-To:');

    fs.writeFileSync(sizeFile, '100000000S\n1000 1\n');
    flush();
    await waitAllSent([[q, rcpts[2]!]], 30_000);
    expect([stored('alice', tok).length, stored('bob', tok).length, stored('carol', tok).length]).toEqual([1, 1, 1]);
  });

  it(`the server restarted (SIGTERM, start again) in the middle of a flood of ${FLOOD} messages from ${FLOOD_CLIENTS} SMTP clients: every message stored exactly once`, { timeout: 110_000 }, async () => {
    const run = randomBytes(4).toString('hex');
    const queued: string[] = [];
    let storedAtStop = -1;
    // Mid-flood, with deliveries in flight: once the first server has stored some of it, SIGTERM
    // (stop accepting, finish or 421, exit 0), then a new server on the same port.
    const restarted = (async () => {
      for (let i = 0; stored('flood').length < 20; i++) {
        if (i > 1500) throw new Error(`the flood never reached mda:\n${listQueue(stack)}`);
        await sleep(20);
      }
      const code = await server!.stop('SIGTERM');
      storedAtStop = stored('flood').length;
      await start();
      return code;
    })();
    const client = async (k: number) => {
      for (let i = k; i < FLOOD; i += FLOOD_CLIENTS) queued.push(await send(`flood@${DOMAIN}`, message(`flood-${run}-${i}`)));
    };
    await Promise.all([...Array.from({ length: FLOOD_CLIENTS }, (_, k) => client(k)), restarted]);
    expect(await restarted).toBe(0);
    // Really mid-flood: the first server had not stored all of it.
    expect(storedAtStop).toBeLessThan(FLOOD);
    expect(queued.filter((q) => q !== '')).toHaveLength(FLOOD);
    flush(); // what Postfix deferred while nobody listened
    await waitAllSent(queued.map((q) => [q, `flood@${DOMAIN}`]), 90_000);

    const counts = new Map<string, number>();
    for (const f of stored('flood')) {
      const id = /^Message-ID: <(flood-[0-9a-f]+-\d+)@sender\.test>$/m.exec(fs.readFileSync(f, 'utf8'))?.[1] ?? `?${f}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const want = Array.from({ length: FLOOD }, (_, i) => `flood-${run}-${i}`);
    expect([...counts.keys()].sort()).toEqual(want.sort()); // none lost, nothing else
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]); // none duplicated
    expect(fs.readdirSync(path.join(vmail, 'flood', 'tmp'))).toEqual([]);
    const interrupted = queued.flatMap((q) => deliveryStatuses(stack, q)).filter((s) => s.status !== 'sent');
    console.log(`flood: ${storedAtStop} stored before the restart; ${interrupted.length} deliveries deferred by it, e.g. ${interrupted[0]?.text ?? '-'}`);
  });
});
