/**
 * date (RFC 5260), environment (RFC 5183), ihave and error (RFC 5463) through the built CLI:
 * `mda deliver` with Roundcube's vacation-with-a-date-range script around the real date (the
 * clock is never pinned in delivery), `mda sieve test --now` for a fixed instant, and
 * `mda sieve check`. Run `npm run build` first.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

const STUB = fileURLToPath(new URL('../fixtures/sieve/stub-sendmail.sh', import.meta.url));
let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
let sent: string;
let cfg: string;
beforeEach(() => {
  t = tempDir('mda-sieve-date-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  sent = join(t.dir, 'sent');
  mkdirSync(join(home, '.mda'), { recursive: true });
  mkdirSync(sent);
  writeFileSync(join(t.dir, 'sendmail'), `#!/bin/sh\nexec env STUB_SENDMAIL_DIR='${sent}' ${STUB} "$@"\n`, { mode: 0o755 });
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[delivery]\nsendmail = "${join(t.dir, 'sendmail')}"\n[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n`);
});
afterEach(() => t.cleanup());

const MSG = [
  'From alice@example.org  Sat Nov 21 23:21:04 2026',
  'Return-Path: <alice@example.org>',
  'Delivered-To: bob@example.test',
  'From: Alice <alice@example.org>',
  'To: bob@example.test',
  'Subject: Hello',
  'Date: Fri, 23 Jan 2009 13:20:34 +0100',
  `Message-ID: <${Math.random()}@example.org>`,
  '',
  'Hi Bob.',
  '',
].join('\n');

const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);
const deliver = () => runMda(['deliver', '--config', cfg, '--maildir', md], { input: MSG, env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' } });
const replies = () => readdirSync(sent).filter((f) => f.endsWith('.args'));

/** yyyy-mm-dd of today + days (UTC); a two-day margin covers any local zone mda runs in. */
const day = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** Roundcube's managesieve vacation rule with a date range. */
const roundcube = (from: string, to: string) => `require ["date","relational","vacation"];
# rule:[Out of office]
if allof (currentdate :zone "+0100" :value "ge" "date" "${from}", currentdate :zone "+0100" :value "le" "date" "${to}")
{
\tvacation :days 1 :subject "Out of office" :addresses ["bob@example.test"] "I am away until January.";
}
`;

describe('RFC 5260 §5: currentdate in delivery (the real clock)', () => {
  it('Roundcube\'s vacation with a range around today replies once, and keeps the message', async () => {
    script(roundcube(day(-2), day(2)));
    const r = await deliver();
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(replies()).toHaveLength(1);
  });

  it('a range that ended yesterday or starts tomorrow sends nothing', async () => {
    for (const [from, to] of [[day(-30), day(-3)], [day(3), day(30)]] as const) {
      script(roundcube(from, to));
      const r = await deliver();
      expect(r.code).toBe(0);
    }
    expect(listDir(join(md, 'new'))).toHaveLength(2);
    expect(replies()).toHaveLength(0);
  });

  it('RFC 5260 §4, RFC 5183 §4: date and environment tests route the message', async () => {
    script('require ["date", "environment", "fileinto", "variables"];\nif allof(date :originalzone "date" "year" "2009", environment "location" "MDA", environment "phase" "during") { fileinto "Old"; }');
    const r = await deliver();
    expect(r.code).toBe(0);
    expect(listDir(join(md, '.Old', 'new'))).toHaveLength(1);
  });

  it('RFC 5463 §5: error keeps the message in INBOX and cancels every action', async () => {
    script('require ["ihave", "fileinto"];\nfileinto "A";\nerror "stop right there";');
    const r = await deliver();
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(listDir(join(md, 'new'))).toHaveLength(1);
    expect(readdirSync(md).filter((d) => d.startsWith('.'))).toEqual([]);
  });
});

describe('mda sieve test --now and mda sieve check', () => {
  const file = () => join(t.dir, 'v.sieve');
  const sieveTest = (now: string) =>
    runMda(['sieve', 'test', '--config', cfg, '--script', file(), '--now', now], { input: MSG });

  it('RFC 5260 §5: --now pins what currentdate sees', async () => {
    writeFileSync(file(), roundcube('2026-12-20', '2026-12-31'));
    const inside = await sieveTest('2026-12-24T09:30:00+01:00');
    expect(inside.code).toBe(0);
    expect(inside.output).toMatch(/vacation reply to <alice@example.org>/);
    // 2026-12-31T23:30:00Z is already 2027-01-01 in +0100
    const after = await sieveTest('2026-12-31T23:30:00Z');
    expect(after.code).toBe(0);
    expect(after.output).not.toMatch(/vacation reply/);
    const std11 = await sieveTest('Thu, 24 Dec 2026 09:30:00 +0100');
    expect(std11.output).toMatch(/vacation reply to <alice@example.org>/);
  });

  it('an unreadable --now is a usage error', async () => {
    writeFileSync(file(), roundcube('2026-12-20', '2026-12-31'));
    const r = await sieveTest('next tuesday');
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/--now "next tuesday": not a date-time/);
  });

  it('RFC 5463 §4: sieve check accepts an unknown capability inside an ihave block', async () => {
    writeFileSync(file(), 'require ["ihave", "fileinto"];\nif ihave "vnd.example.magic" { magic :sparkle "x"; } else { fileinto "Plain"; }\n');
    const r = await runMda(['sieve', 'check', file()]);
    expect(r.output).toBe(`OK: ${file()}\n`);
    expect(r.code).toBe(0);
  });
});
