/**
 * editheader (RFC 5293) through the real `mda deliver`: the exact bytes of every stored copy and
 * redirected message, each carrying the header as it was when its action ran; copies with the same
 * header share one file; tmp/ is left empty. Run `npm run build` first.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda } from '../helpers/run-mda.js';
import { sieveSandbox, type SieveSandbox } from '../helpers/sieve-sandbox.js';

let sb: SieveSandbox;
let t: SieveSandbox['t'];
let home: string;
let md: string;
let sent: string;
beforeEach(() => {
  sb = sieveSandbox('mda-editheader-');
  ({ t, home, md, sent } = sb);
});
afterEach(() => t.cleanup());

const config = () => sb.config();

const R = 'require ["editheader", "fileinto", "variables", "copy"];\n';
const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), R + text);

const HEAD = [
  'Return-Path: <alice@example.org>',
  'Delivered-To: bob@example.test',
  'Received: from a.example.org by mx.example.test',
  'From: Alice <alice@example.org>',
  'To: bob@example.test',
  'Subject: Hello',
  'Message-ID: <m1@example.org>',
];
const msg = (head = HEAD, body = 'Hi Bob.\n', eol = '\n') => `${head.join(eol)}${eol}${eol}${body.replace(/\n/g, eol)}`;

async function deliver(input: string) {
  return runMda(['deliver', '--config', config(), '--maildir', md], {
    input,
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
  });
}

/** The one stored file of a folder ('' = INBOX). */
function stored(folder: string): { path: string; text: string } {
  const dir = join(md, folder, 'new');
  const names = listDir(dir);
  expect(names).toHaveLength(1);
  const path = join(dir, names[0]!);
  return { path, text: readFileSync(path, 'utf8') };
}
const sentMail = () => readdirSync(sent).filter((f) => f.endsWith('.msg')).map((f) => readFileSync(join(sent, f), 'utf8'));

describe('editheader: each copy stores the header of its time', () => {
  it('RFC 5293 §3: fileinto "a"; addheader "X" "1"; keep; → folder a unedited, INBOX with X (prepended after Return-Path)', async () => {
    script('fileinto "a"; addheader "X" "1"; keep;');
    const r = await deliver(msg());
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
    expect(stored('.a').text).toBe(msg());
    const [rp, ...rest] = HEAD;
    expect(stored('').text).toBe(msg([rp!, 'X: 1', ...rest]));
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });

  it('RFC 5293 §4: with Postfix\'s From_ line the added field still goes right after Return-Path', async () => {
    script('addheader "X" "1";');
    expect((await deliver(`From alice@example.org  Sat Nov 21 23:21:04 2026\n${msg()}`)).code).toBe(0);
    const plain = stored('').text;
    expect(plain.split('\n').slice(0, 3)).toEqual([HEAD[0], 'X: 1', HEAD[1]]);
    expect(plain.endsWith(`${HEAD.at(-1)}\n\nHi Bob.\n`)).toBe(true);
  });

  it('RFC 5293 §3: copies with the same header share one file (hard link)', async () => {
    script('addheader "X" "1"; fileinto :copy "a";');
    expect((await deliver(msg())).code).toBe(0);
    const a = stored('.a');
    const inbox = stored('');
    expect(a.text).toContain('\nX: 1\n');
    expect(statSync(a.path).ino).toBe(statSync(inbox.path).ino);
  });

  it('RFC 5293 §4-§5: deleteheader, addheader :last with a non-ASCII value (RFC 2047), CRLF kept; the body streams unchanged', async () => {
    script('deleteheader "Delivered-To"; addheader :last "X-Note" "Grüße"; deleteheader :is "subject" "nope";');
    const body = `${'line of the body\n'.repeat(200_000)}end\n`; // ~3.4 MB
    expect((await deliver(msg(HEAD, body, '\r\n'))).code).toBe(0);
    const want = msg([...HEAD.filter((l) => !l.startsWith('Delivered-To')), `X-Note: =?UTF-8?B?${Buffer.from('Grüße').toString('base64')}?=`], body, '\r\n');
    const got = stored('');
    expect(got.text.length).toBe(want.length);
    expect(got.text === want).toBe(true);
    expect(got.path).toMatch(new RegExp(`,S=${Buffer.byteLength(want)}`));
  });

  it('RFC 5293 §3: a redirect sends the header as it was when it ran', async () => {
    script('addheader "X-Fwd" "yes"; redirect "carol@example.net"; addheader "X-Later" "no"; keep;');
    expect((await deliver(msg())).code).toBe(0);
    const out = sentMail();
    expect(out).toHaveLength(1);
    const [first, ...rest] = out[0]!.split('\n');
    expect(first).toMatch(/^X-Sieve-Redirected-From: <.*>$/);
    expect(rest.join('\n')).toBe(msg(['X-Fwd: yes', ...HEAD.slice(1)])); // Return-Path is left out of a redirect
    expect(stored('').text).toBe(msg([HEAD[0]!, 'X-Later: no', 'X-Fwd: yes', ...HEAD.slice(1)]));
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });

  it('RFC 5228 §2.10.6: after a runtime error the original message is kept', async () => {
    script('addheader "X" "1"; fileinto "a"; set "n" "a b"; addheader "${n}" "v";');
    const r = await deliver(msg());
    expect(r.code).toBe(0);
    expect(stored('').text).toBe(msg());
    expect(listDir(join(md, '.a', 'new'))).toEqual([]);
  });

  it('RFC 5293 §6 (Pigeonhole defaults): deleting Received is refused and ignored, the rest applies', async () => {
    script('deleteheader "Received"; deleteheader "Message-ID";');
    expect((await deliver(msg())).code).toBe(0);
    expect(stored('').text).toBe(msg(HEAD.filter((l) => !l.startsWith('Message-ID'))));
  });
});

describe('editheader in mda sieve test', () => {
  it('RFC 5293 §3: the result marks the copies and redirects whose header was edited', async () => {
    script('fileinto "a"; addheader "X" "1"; redirect "carol@example.net"; keep;');
    const r = await runMda(['sieve', 'test', '--script', join(home, '.mda', 'filter.sieve')], { input: msg() });
    const result = r.output.split(/^result:$/m)[1] ?? '';
    expect(result).toMatch(/store in a$/m);
    expect(result).toMatch(/store in INBOX \(header edited\)$/m);
    expect(result).toMatch(/redirect to <carol@example.net> \(header edited\)$/m);
    expect(r.output).toMatch(/addheader X/);
  });
});
