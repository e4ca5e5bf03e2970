/**
 * Issue 13's spec deviations through the real `mda deliver` on real Maildirs, where they touch
 * what is stored, sent or remembered across deliveries: the vacation default handle with
 * variables (RFC 5230 §4.2), duplicate tests within one run (RFC 7352 §3), duplicate redirects
 * compared as addresses (RFC 5228 §2.10.3), the last flags of a merged store on disk (RFC 5232 §3)
 * and a message without a body (RFC 5173 §4). The pure rules are test/unit/sieve/spec-deviations.test.ts's.
 * Run `npm run build` first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMda } from '../helpers/run-mda.js';
import { sieveSandbox, type SieveSandbox } from '../helpers/sieve-sandbox.js';

let sb: SieveSandbox;
let t: SieveSandbox['t'];
let home: string;
let md: string;
let sent: string;
beforeEach(() => {
  sb = sieveSandbox('mda-sieve-dev-');
  ({ t, home, md, sent } = sb);
  sb.config();
});
afterEach(() => t.cleanup());

const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);

function message(m: { subject?: string; id?: string } = {}): string {
  return [
    'From alice@example.org  Sat Nov 21 23:21:04 2026',
    'Return-Path: <alice@example.org>',
    'From: Alice <alice@example.org>',
    'To: bob@example.test',
    `Subject: ${m.subject ?? 'Hello'}`,
    `Message-ID: <${m.id ?? `${Math.random()}@example.org`}>`,
    '',
    'Hi Bob.',
    '',
  ].join('\n');
}

async function deliver(input: string) {
  return runMda(['deliver', '--config', join(t.dir, 'mda.toml'), '--maildir', md, '--recipient', 'bob@example.test'], {
    input,
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
  });
}

const files = (folder: string, sub: 'new' | 'cur' = 'new') => sb.files(folder, sub);
const sentMail = () => sb.sentMail();

describe('RFC 5230 §4.2: vacation tracking uses the unexpanded arguments', () => {
  it('RFC 5230 §4.2: a subject built from the message does not send a second reply within the period', async () => {
    script(`require ["vacation", "variables"];
if header :matches "subject" "*" { set "subject" "\${1}"; }
vacation :days 7 :subject "Re: \${subject}" "I am away; your mail about \${subject} will wait.";`);
    expect((await deliver(message({ subject: 'First' }))).code).toBe(0);
    expect((await deliver(message({ subject: 'Second' }))).code).toBe(0);
    const replies = sentMail();
    expect(replies).toHaveLength(1);
    expect(replies[0]!.msg).toMatch(/^Subject: Re: First\r$/m);
    expect(files('')).toHaveLength(2);
  });
});

describe('RFC 7352 §3: duplicate tests in one run see only earlier deliveries', () => {
  it('RFC 7352 §3: the second test of an unseen id is false too; both are true on the next delivery', async () => {
    script(`require ["duplicate", "fileinto", "copy"];
if duplicate { fileinto :copy "First"; }
if duplicate { fileinto :copy "Second"; }`);
    expect((await deliver(message({ id: 'same@example.org' }))).code).toBe(0);
    expect([files(''), files('.First'), files('.Second')].map((f) => f.length)).toEqual([1, 0, 0]);
    expect((await deliver(message({ id: 'same@example.org' }))).code).toBe(0);
    expect([files(''), files('.First'), files('.Second')].map((f) => f.length)).toEqual([2, 1, 1]);
  });
});

describe('RFC 5228 §2.10.3: duplicate redirects', () => {
  it('RFC 5228 §2.10.3: "Carol <carol@example.net>" and "carol@example.net" are one redirect', async () => {
    script('redirect "Carol <carol@example.net>";\nredirect "carol@example.net";');
    expect((await deliver(message())).code).toBe(0);
    expect(sentMail().map((m) => m.args)).toEqual([['-i', '-f', 'alice@example.org', '--', 'carol@example.net']]);
    expect(files('')).toEqual([]);
  });
});

describe('RFC 5232 §3: a merged store carries the flags of the last action', () => {
  it('RFC 5232 §3: fileinto \\Seen then \\Flagged into one folder is one file with F only', async () => {
    script('require ["fileinto", "imap4flags"];\nfileinto :flags "\\\\Seen" "Work";\nfileinto :flags "\\\\Flagged" "Work";');
    expect((await deliver(message())).code).toBe(0);
    const stored = files('.Work', 'cur');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/:2,F$/);
  });
});

describe('RFC 5173 §4: a message without a body', () => {
  it('RFC 5173 §4: no empty line after the header: body tests are false, the message is kept', async () => {
    script('require ["body", "fileinto"];\nif anyof (body :raw :contains "", body :text :contains "", body :content "" :contains "") { fileinto "Body"; }');
    expect((await deliver('From: Alice <alice@example.org>\nTo: bob@example.test\nSubject: no body\n')).code).toBe(0);
    expect(files('.Body')).toEqual([]);
    expect(files('')).toHaveLength(1);
  });
});
