/**
 * Issue 10 findings 6 and 7: a vacation reply goes to one valid address or
 * nowhere, and "once per period per sender" holds under any flood. Through the
 * real `mda deliver` with a stub sendmail that records what reaches it: a
 * hostile Return-Path (a comma list, a quoted local part with '>') gets no
 * reply; a sender answered before 6,000 others is not answered again within
 * the period; a full state refuses new replies (logged once) instead of
 * forgetting anyone. Run `npm run build` first.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Deadline } from '../../src/deadline/deadline.js';
import { isLive, MAX_VACATION_ENTRIES, record } from '../../src/sieve/state-log.js';
import { readStateLog, updateStateLog } from '../../src/sieve/state-store.js';
import { vacationKey } from '../../src/sieve/vacation-rules.js';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

const STUB = fileURLToPath(new URL('../fixtures/sieve/stub-sendmail.sh', import.meta.url));
const HANDLE = 'away';
const WEEK = 7 * 86_400;
let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
let sent: string;
let state: string;

beforeEach(() => {
  t = tempDir('mda-hostile-vacation-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  sent = join(t.dir, 'sent');
  state = join(home, '.mda');
  mkdirSync(state, { recursive: true });
  mkdirSync(sent);
  writeFileSync(join(t.dir, 'sendmail'), `#!/bin/sh\nexec env STUB_SENDMAIL_DIR='${sent}' ${STUB} "$@"\n`, { mode: 0o755 });
  writeFileSync(join(t.dir, 'mda.toml'), [
    '[log]', `target = "file:${join(t.dir, 'mda.log')}"`,
    '[delivery]', 'deadline = "20s"', `sendmail = "${join(t.dir, 'sendmail')}"`,
    '[sieve]', `script = "${join(state, 'filter.sieve')}"`, `state_dir = "${state}"`,
  ].join('\n'));
  writeFileSync(join(state, 'filter.sieve'), `require "vacation";\nvacation :days 7 :handle "${HANDLE}" "I am away.";\n`);
});
afterEach(() => t.cleanup());

/** A message as Postfix hands it over, with `returnPath` as the Return-Path field's whole value. */
const message = (returnPath: string, n = 1) =>
  `From MAILER-DAEMON  Sat Nov 21 23:21:04 2026\nReturn-Path: ${returnPath}\nDelivered-To: bob@example.test\n` +
  `From: someone@example.org\nTo: bob@example.test\nSubject: hello ${n}\nMessage-ID: <v${n}@example.org>\n\nHi Bob.\n`;

async function deliver(input: string): Promise<void> {
  const r = await runMda(['deliver', '--config', join(t.dir, 'mda.toml'), '--maildir', md], {
    input,
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
    hardTimeoutMs: 40_000,
  });
  expect(r.output).toBe('');
  expect(r.code).toBe(0);
}

/** What reached sendmail: for each run, the arguments after `--` (the recipients). */
function recipientsSent(): string[][] {
  return readdirSync(sent).filter((f) => f.endsWith('.args')).sort().map((f) => {
    const argv = readFileSync(join(sent, f), 'utf8').split('\n').slice(0, -1);
    const dd = argv.indexOf('--');
    return dd < 0 ? argv : argv.slice(dd + 1);
  });
}

const log = () => readFileSync(join(t.dir, 'mda.log'), 'utf8');
const stored = () => listDir(join(md, 'new')).length;
const now = () => Math.floor(Date.now() / 1000);
const fakeKey = (i: number) => i.toString(16).padStart(40, '0');

/** Pre-seeds the vacation state: `first` (if given) expiring first, then `count` other senders' entries. */
function seedState(count: number, first?: string): void {
  const base = now() + WEEK - count - 10;
  const lines = first === undefined ? [] : [`${vacationKey(first, HANDLE)} ${base}\n`];
  for (let i = 0; i < count; i++) lines.push(`${fakeKey(i)} ${base + 1 + i}\n`);
  writeFileSync(join(state, 'sieve-vacation.log'), lines.join(''), { mode: 0o600 });
}

describe('vacation: the recipient is one valid address or there is no reply (finding 6)', () => {
  it('control: a plain sender gets exactly one reply, to that address alone, after `--`', async () => {
    await deliver(message('<alice@example.org>'));
    expect(recipientsSent()).toEqual([['alice@example.org']]);
    expect(stored()).toBe(1);
  });

  it.each([
    ['a comma list', '<a@b.example, c@d.example>'],
    ['a quoted local part with ">"', '<"x>y"@evil.example>'],
    ['a semicolon list', '<a@b.example; c@d.example>'],
    ['an option-like address', '<-oQ/tmp@evil.example>'],
    ['a display name with a list', 'Eve <a@b.example>, <c@d.example>'],
  ])('Return-Path with %s: no reply reaches sendmail, the mail is stored', async (_, rp) => {
    await deliver(message(rp));
    // A reply could only be right with exactly one recipient that is a plain address; here none is wanted at all.
    for (const rcpts of recipientsSent()) expect(rcpts).toHaveLength(1);
    expect(recipientsSent()).toEqual([]);
    expect(stored()).toBe(1);
  });
});

describe('vacation: once per period per sender under a flood (finding 7)', () => {
  it('6,000 other senders after the first (state pre-seeded), a new one, then the first again: no second reply', { timeout: 60_000 }, async () => {
    seedState(6_000, 'first@example.org');
    await deliver(message('<new@example.org>', 1));
    expect(recipientsSent()).toEqual([['new@example.org']]);
    await deliver(message('<first@example.org>', 2));
    expect(recipientsSent()).toEqual([['new@example.org']]);
    expect(log()).toMatch(/already sent within its period/);
    const kept = await readStateLog(state, 'vacation');
    expect(isLive(kept, vacationKey('first@example.org', HANDLE), now())).toBe(true);
    expect(stored()).toBe(2);
  });

  it('the store keeps every unexpired entry: 5,999 seeded + 1 recorded, the first still remembered', async () => {
    seedState(5_999, 'first@example.org');
    const deadline = Deadline.start(20_000, { graceMs: 1000, onHardStop: () => undefined });
    try {
      await updateStateLog(state, 'vacation', { timeoutMs: 5_000, staleMs: 60_000, deadline }, now(), (l) => {
        record(l, vacationKey('another@example.org', HANDLE), now() + WEEK);
        return { changed: true, value: undefined };
      });
    } finally {
      deadline.dispose();
    }
    const kept = await readStateLog(state, 'vacation');
    expect(isLive(kept, vacationKey('first@example.org', HANDLE), now())).toBe(true);
    expect(isLive(kept, vacationKey('another@example.org', HANDLE), now())).toBe(true);
    expect(kept.size).toBe(6_001);
  });

  it('at the hard cap a new sender gets no reply (logged once), the mail is stored, nobody is forgotten', { timeout: 60_000 }, async () => {
    seedState(MAX_VACATION_ENTRIES - 1, 'first@example.org');
    await deliver(message('<late1@example.org>', 1));
    await deliver(message('<late2@example.org>', 2));
    await deliver(message('<first@example.org>', 3));
    expect(recipientsSent()).toEqual([]);
    expect(stored()).toBe(3);
    expect(log().match(/vacation state is full/g)).toHaveLength(1);
    const kept = await readStateLog(state, 'vacation');
    expect(kept.size).toBe(MAX_VACATION_ENTRIES);
    expect(isLive(kept, vacationKey('first@example.org', HANDLE), now())).toBe(true);
  });

  it('expired entries make room again: a full state of expired entries still replies', { timeout: 60_000 }, async () => {
    const past = now() - 10;
    writeFileSync(join(state, 'sieve-vacation.log'), Array.from({ length: MAX_VACATION_ENTRIES }, (_, i) => `${fakeKey(i)} ${past}\n`).join(''));
    await deliver(message('<fresh@example.org>'));
    expect(recipientsSent()).toEqual([['fresh@example.org']]);
  });
});
