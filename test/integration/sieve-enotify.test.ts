/**
 * enotify with the mailto method (RFC 5435, RFC 5436) through the real `mda deliver`: notifications
 * captured by a stub sendmail that records argv and stdin; Auto-Submitted: auto-notified on each,
 * MAIL FROM <> for a message from <>, none for Auto-Submitted mail, one per recipient, none after a
 * runtime error or when the delivery does not commit. Run `npm run build` first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sieveTest } from '../../src/cli/commands/sieve-test.js';
import { runCli, runMda } from '../helpers/run-mda.js';
import { sieveSandbox, type SieveSandbox } from '../helpers/sieve-sandbox.js';

let sb: SieveSandbox;
let t: SieveSandbox['t'];
let home: string;
let md: string;
let sent: string;
beforeEach(() => {
  sb = sieveSandbox('mda-enotify-');
  ({ t, home, md, sent } = sb);
});
afterEach(() => t.cleanup());
const stub = (env: Record<string, string>) => sb.stub(env);
const config = (extra = '') => sb.config(extra);

const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);

function message(o: { sender?: string; extra?: string } = {}): string {
  const sender = o.sender ?? 'alice@example.org';
  return [
    `From ${sender || 'MAILER-DAEMON'}  Sat Nov 21 23:21:04 2026`,
    `Return-Path: <${sender}>`,
    'From: Alice <alice@example.org>',
    'To: bob@example.test',
    'Subject: Quarterly report',
    `Message-ID: <${Math.random()}@example.org>`,
    ...(o.extra ? [o.extra] : []),
    '',
    'Hi Bob.',
    '',
  ].join('\n');
}

async function deliver(msg = message(), cfg = config()) {
  return runMda(['deliver', '--config', cfg, '--maildir', md, '--recipient', 'bob@example.test'], {
    input: msg,
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
  });
}

const files = (folder: string) => sb.files(folder);
const sentMail = () => sb.sentMail();
const byRecipient = () => sentMail().sort((a, b) => a.args.at(-1)!.localeCompare(b.args.at(-1)!));

const R = 'require ["enotify", "fileinto"];\n';

describe('enotify mailto through mda deliver (RFC 5436)', () => {
  it('RFC 5436 §2.7: one sendmail run per recipient (path, ?to=, ?cc= with %2C), Auto-Submitted: auto-notified, the message kept', async () => {
    script(R + 'notify :message "Report in" "mailto:carol@example.net?to=dave@example.net&cc=erin@example.net%2Cfrank@example.net&subject=ignored&from=evil@example.net";');
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(files('')).toHaveLength(1);
    const mail = byRecipient();
    expect(mail.map((m) => m.args)).toEqual(['carol', 'dave', 'erin', 'frank'].map((u) => ['-i', '-f', 'bob@example.test', '--', `${u}@example.net`]));
    for (const m of mail) {
      expect(m.msg.match(/^Auto-Submitted:[^\n]*/gim)).toEqual(['Auto-Submitted: auto-notified\r']);
      expect(m.msg).toMatch(/^Subject: Report in\r$/m);
      expect(m.msg).toMatch(/^From: <bob@example.test>\r$/m); // RFC 5436 §2.7: the URI's from is ignored
      expect(m.msg).toMatch(/^To: <carol@example.net>, <dave@example.net>\r$/m);
      expect(m.msg).toMatch(/^Cc: <erin@example.net>, <frank@example.net>\r$/m);
      expect(m.msg).not.toMatch(/evil/);
    }
  });

  it('RFC 5436 §2.7: a message from <> is notified from <> (MAIL FROM:<>)', async () => {
    script(R + 'notify "mailto:carol@example.net";');
    expect((await deliver(message({ sender: '' }))).code).toBe(0);
    expect(sentMail().map((m) => m.args)).toEqual([['-i', '-f', '<>', '--', 'carol@example.net']]);
  });

  it.each<[string, string, number]>([
    ['RFC 5436 §2.7: Auto-Submitted: auto-replied: no notification', 'Auto-Submitted: auto-replied', 0],
    ['RFC 5436 §2.7: Auto-Submitted: no: notified', 'Auto-Submitted: no', 1],
    ['RFC 5436 §2.7: list mail is notified', 'List-Id: <dev.lists.example.org>', 1],
  ])('%s', async (_, extra, count) => {
    script(R + 'notify "mailto:carol@example.net";');
    expect((await deliver(message({ extra }))).code).toBe(0);
    expect(sentMail()).toHaveLength(count);
    expect(files('')).toHaveLength(1);
  });

  it('RFC 5435 §3, duplicate notifications: the same recipient twice in one run gets one notification', async () => {
    script(R + 'notify :message "first" "mailto:carol@example.net";\nnotify :message "second" "mailto:Carol@example.net";');
    expect((await deliver()).code).toBe(0);
    const mail = sentMail();
    expect(mail).toHaveLength(1);
    expect(mail[0]!.msg).toMatch(/^Subject: first\r$/m);
  });

  it('RFC 5436 §2.3: :from with the user\'s +detail address is used; another address is not', async () => {
    script(R + 'notify :from "bob+alerts@example.test" "mailto:carol@example.net";\nnotify :from "ceo@example.test" "mailto:dave@example.net";');
    expect((await deliver()).code).toBe(0);
    const [carol, dave] = byRecipient();
    expect(carol!.msg).toMatch(/^From: <bob\+alerts@example.test>\r$/m);
    expect(dave!.msg).toMatch(/^From: <bob@example.test>\r$/m);
  });

  it('RFC 5228 §2.10.6: a runtime error after notify sends nothing and keeps the message', async () => {
    script('require ["enotify", "fileinto", "variables"];\nnotify "mailto:carol@example.net";\nset "bad" "../etc";\nfileinto "${bad}";');
    expect((await deliver()).code).toBe(0);
    expect(sentMail()).toEqual([]);
    expect(files('')).toHaveLength(1);
  });

  it('notifications count against [sieve] max_redirects: over it, a runtime error, nothing sent', async () => {
    script(R + 'redirect :copy "x@example.net";\nnotify "mailto:carol@example.net,dave@example.net";');
    expect((await deliver(message(), config('max_redirects = 2\n'))).code).toBe(0);
    expect(sentMail()).toEqual([]);
    expect(files('')).toHaveLength(1);
  });

  it('no notification when the delivery does not commit (over quota: 5.2.2, nothing stored)', async () => {
    script(R + 'notify "mailto:carol@example.net";');
    const r = await deliver(message({ extra: `X-Pad: ${'x'.repeat(600)}` }), config('[quota]\nstorage = "100"\n'));
    expect(r.code).toBe(77);
    expect(sentMail()).toEqual([]);
  });

  it('notify with discard: the notification goes out once the discard is final', async () => {
    script(R + 'notify "mailto:carol@example.net";\ndiscard;');
    expect((await deliver()).code).toBe(0);
    expect(files('')).toEqual([]);
    expect(sentMail()).toHaveLength(1);
  });

  it('a failing sendmail changes nothing: exit 0, the message stored', async () => {
    stub({ STUB_SENDMAIL_EXIT: '75' });
    script(R + 'notify "mailto:carol@example.net";');
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(files('')).toHaveLength(1);
  });
});

describe('mda sieve check / test know enotify', () => {
  it('check: a non-mailto method is a compile error with its line', async () => {
    writeFileSync(join(t.dir, 'x.sieve'), 'require "enotify";\nnotify "xmpp:bob@example.test";\n');
    const r = await runCli(['sieve', 'check', 'x.sieve'], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^x\.sieve:2:8: invalid notification method "xmpp:bob@example.test": unsupported notification method "xmpp"/);
  });

  it('test: the plan lists each notification with its envelope sender and subject', async () => {
    writeFileSync(join(t.dir, 's.sieve'), R + 'notify :importance "1" :message "Hi" "mailto:carol@example.net";');
    writeFileSync(join(t.dir, 'mda.toml'), '[log]\ntarget = "none"\n');
    let out = '';
    const code = await sieveTest({ script: [join(t.dir, 's.sieve')], config: join(t.dir, 'mda.toml'), recipient: 'bob@example.test' }, {
      out: { write: (s: string) => (out += s) }, err: { write: () => undefined }, env: {},
      stdin: (async function* () { yield Buffer.from(message()); })(),
    });
    expect(code).toBe(0);
    expect(out).toContain('  notify <carol@example.net> from <bob@example.test> subject "Hi" importance 1\n');
  });
});
