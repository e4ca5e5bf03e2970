import { describe, expect, it } from 'vitest';
import {
  buildRow,
  csvField,
  exitStatus,
  filterOver,
  formatCsv,
  formatJson,
  formatReport,
  formatTable,
  humanSize,
  isAtOrOver,
  parseOver,
  percentOf,
  printable,
  progressUpdate,
  showProgress,
  statusOf,
  type Measured,
  type Row,
} from '../../../src/quota/report.js';

const K = 1024;
const M = 1024 ** 2;
const G = 1024 ** 3;

const measured = (bytes: number, count: number, storage: number, messages: number, user = 'alice'): Measured => ({
  user,
  maildir: `/srv/mail/${user}/Maildir`,
  limits: { storage, messages },
  result: { usage: { bytes, count } },
});

describe('percentOf', () => {
  it.each<[string, number, number, number | null]>([
    ['unlimited', 123, 0, null],
    ['zero usage', 0, 1000, 0],
    ['exactly at the limit', 1000, 1000, 100],
    ['over', 1500, 1000, 150],
    ['29/100 is exactly 29 (no float drift)', 29, 100, 29],
    ['floored, never rounded up to a threshold', 89_999, 100_000, 89.99],
    ['two decimals', 1, 3, 33.33],
    ['huge numbers stay exact', 2 ** 52, 2 ** 53, 50],
  ])('%s', (_n, used, limit, want) => {
    expect(percentOf(used, limit)).toBe(want);
  });
});

describe('statusOf', () => {
  it.each<[string, number, number, number, number, string]>([
    ['unlimited', 10 * G, 1e6, 0, 0, 'ok'],
    ['zero usage', 0, 0, G, 100, 'ok'],
    ['just under 90 %', 89, 0, 100, 0, 'ok'],
    ['exactly 90 % of storage: warn', 90, 0, 100, 0, 'warn'],
    ['99.99 %: warn', 9999, 0, 10_000, 0, 'warn'],
    ['exactly at the storage limit: over', 100, 0, 100, 0, 'over'],
    ['over storage', 101, 0, 100, 0, 'over'],
    ['90 % of messages only: warn', 0, 9, G, 10, 'warn'],
    ['at the message limit: over', 0, 10, G, 10, 'over'],
    ['message limit only, storage unlimited', 10 * G, 5, 0, 10, 'ok'],
    ['over one limit and fine on the other: over', 1, 10, G, 10, 'over'],
  ])('%s', (_n, bytes, count, storage, messages, want) => {
    expect(statusOf({ bytes, count }, { storage, messages })).toBe(want);
  });
});

describe('buildRow', () => {
  it('fills usage, limits, percents and status; null for unlimited', () => {
    expect(buildRow(measured(900, 3, 1000, 0))).toEqual({
      user: 'alice',
      maildir: '/srv/mail/alice/Maildir',
      bytes: 900,
      storageLimit: 1000,
      storagePercent: 90,
      messages: 3,
      messageLimit: null,
      messagePercent: null,
      status: 'warn',
    });
  });

  it('keeps the limits but no usage for a missing Maildir', () => {
    const r = buildRow({ user: 'bob', maildir: '/m', limits: { storage: 5, messages: 7 }, result: { missing: true } });
    expect(r).toMatchObject({ bytes: null, storageLimit: 5, storagePercent: null, messages: null, messageLimit: 7, status: 'missing' });
  });

  it('says why for an error', () => {
    const r = buildRow({ user: 'bob', maildir: '/m', limits: { storage: 0, messages: 0 }, result: { error: 'EACCES: permission denied' } });
    expect(r).toMatchObject({ bytes: null, storageLimit: null, status: 'error: EACCES: permission denied' });
  });
});

describe('parseOver', () => {
  it.each<[string | number | undefined, number | undefined | 'error']>([
    [undefined, undefined],
    ['90', 90],
    ['90%', 90],
    [' 99.5 ', 99.5],
    ['0', 0],
    ['150', 150],
    [90, 90],
    ['', 'error'],
    ['-5', 'error'],
    ['abc', 'error'],
    ['9 0', 'error'],
    ['1e2', 'error'],
  ])('%j', (input, want) => {
    const got = parseOver(input);
    if (want === 'error') expect(got).toHaveProperty('error');
    else expect(got).toBe(want);
  });
});

describe('--over filtering and exit status', () => {
  const rows: Row[] = [
    buildRow(measured(95, 1, 100, 0, 'storage95')),
    buildRow(measured(10, 9, 100, 10, 'messages90')),
    buildRow(measured(89, 0, 100, 0, 'storage89')),
    buildRow(measured(10 * G, 10_000, 0, 0, 'unlimited')),
    buildRow({ user: 'gone', maildir: '/x', limits: { storage: 1, messages: 0 }, result: { missing: true } }),
    buildRow({ user: 'broken', maildir: '/y', limits: { storage: 1, messages: 0 }, result: { error: 'EIO' } }),
  ];
  const users = (rs: Row[]): string[] => rs.map((r) => r.user);

  it.each<[number | undefined, string[]]>([
    [undefined, ['storage95', 'messages90', 'storage89', 'unlimited', 'gone', 'broken']],
    [90, ['storage95', 'messages90']],
    [95, ['storage95']],
    [89, ['storage95', 'messages90', 'storage89']],
    [95.1, []],
    [0, ['storage95', 'messages90', 'storage89']], // unlimited, missing and broken have no percent
  ])('--over %s', (over, want) => {
    expect(users(filterOver(rows, over))).toEqual(want);
  });

  it('at or above: exactly N % counts', () => {
    expect(isAtOrOver(buildRow(measured(90, 0, 100, 0)), 90)).toBe(true);
    expect(isAtOrOver(buildRow(measured(89, 0, 100, 0)), 90)).toBe(false);
  });

  it.each<[string, number, number | undefined, number, number]>([
    ['no --over, no errors', 0, undefined, 5, 0],
    ['no --over, an error', 1, undefined, 5, 2],
    ['--over, none shown', 0, 90, 0, 0],
    ['--over, some shown', 0, 90, 3, 1],
    ['--over, some shown and an error: error wins', 2, 90, 3, 2],
    ['--over, none shown but an error', 1, 90, 0, 2],
  ])('%s', (_n, errors, over, shown, want) => {
    expect(exitStatus(errors, over, shown)).toBe(want);
  });
});

describe('humanSize', () => {
  it.each<[number, string]>([
    [0, '0'],
    [999, '999'],
    [1023, '1023'],
    [K, '1K'],
    [1536, '1.5K'],
    [512 * K, '512K'],
    [Math.round(1.2 * G), '1.2G'],
    [G, '1G'],
    [Math.round(10.4 * M), '10M'],
    [Math.round(1023.7 * K), '1.0M'],
    [5 * 1024 ** 4, '5T'],
  ])('%d → %s', (n, want) => {
    expect(humanSize(n)).toBe(want);
  });
});

describe('formatTable', () => {
  const rows = [
    buildRow(measured(Math.round(1.2 * G), 12_345, 2 * G, 0, 'alice')),
    buildRow(measured(512 * K, 3, 0, 0, 'bo')),
    buildRow({ user: 'carol', maildir: '/home/carol/Maildir', limits: { storage: 0, messages: 100 }, result: { usage: { bytes: 0, count: 95 } } }),
  ];

  it('aligns columns under a header: text left, numbers right, no trailing blanks', () => {
    expect(formatTable(rows)).toBe(
      [
        'USER   MAILDIR                  USED  LIMIT   USE%   MSGS  MSG LIMIT  STATUS',
        'alice  /srv/mail/alice/Maildir  1.2G     2G  60.0%  12345          -  ok',
        'bo     /srv/mail/bo/Maildir     512K      -      -      3          -  ok',
        'carol  /home/carol/Maildir         0      -  95.0%     95        100  warn',
        '',
      ].join('\n'),
    );
  });

  it.each<{ name: string; m: Measured; want: string }>([
    { name: 'messages fuller than storage: the message use', m: measured(100 * K, 95, M, 100), want: '95.0%' },
    { name: 'storage fuller than messages: the storage use', m: measured(900 * K, 5, M, 100), want: '87.8%' },
    { name: 'only a message limit', m: measured(G, 42, 0, 100), want: '42.0%' },
    { name: 'only a storage limit', m: measured(512 * K, 3, M, 0), want: '50.0%' },
    { name: 'unlimited', m: measured(512 * K, 3, 0, 0), want: '-' },
  ])('USE% is the larger of storage and message use: $name', ({ m, want }) => {
    const [head, line] = formatTable([buildRow(m)]).trimEnd().split('\n');
    const at = head!.indexOf('USE%') + 'USE%'.length;
    expect(line!.slice(0, at).trim().split(/\s+/).at(-1)).toBe(want);
  });

  it('both the storage columns (USED, LIMIT) and the message columns (MSGS, MSG LIMIT) are there', () => {
    const [head, line] = formatTable([buildRow(measured(2 * K, 7, 4 * K, 10))]).trimEnd().split('\n');
    expect(head!.split(/\s{2,}/)).toEqual(['USER', 'MAILDIR', 'USED', 'LIMIT', 'USE%', 'MSGS', 'MSG LIMIT', 'STATUS']);
    expect(line!.split(/\s+/)).toEqual(['alice', '/srv/mail/alice/Maildir', '2K', '4K', '70.0%', '7', '10', 'ok']);
  });

  it('every line has the same column starts', () => {
    const lines = formatTable(rows).trimEnd().split('\n');
    const starts = (l: string): number => l.indexOf('  /') + 2;
    expect(new Set(lines.slice(1).map(starts)).size).toBe(1);
  });

  it('prints only the header when there are no rows', () => {
    expect(formatTable([])).toBe('USER  MAILDIR  USED  LIMIT  USE%  MSGS  MSG LIMIT  STATUS\n');
  });

  it('escapes control characters in names', () => {
    const out = formatTable([buildRow(measured(0, 0, 0, 0, 'evil\x1b[2J\nname'))]);
    expect(out).toContain('evil\\x1b[2J\\x0aname');
    expect(out.trimEnd().split('\n')).toHaveLength(2);
    expect(printable('tab\there\x7f')).toBe('tab\\x09here\\x7f');
  });
});

describe('formatJson', () => {
  it('is an array of objects with stable keys, numbers as numbers, null for unlimited', () => {
    const parsed = JSON.parse(formatJson([buildRow(measured(2048, 2, 4096, 0))])) as Record<string, unknown>[];
    expect(parsed).toHaveLength(1);
    expect(Object.keys(parsed[0]!)).toEqual([
      'user',
      'maildir',
      'bytes',
      'storageLimit',
      'storagePercent',
      'messages',
      'messageLimit',
      'messagePercent',
      'status',
    ]);
    expect(parsed[0]).toMatchObject({ bytes: 2048, storageLimit: 4096, storagePercent: 50, messages: 2, messageLimit: null, messagePercent: null });
  });

  it('an empty report is []', () => {
    expect(JSON.parse(formatJson([]))).toEqual([]);
  });
});

describe('CSV (RFC 4180)', () => {
  it.each<[string | number | null, string]>([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    [' spaces kept ', ' spaces kept '],
    [42, '42'],
    [null, ''],
  ])('field %j → %j', (v, want) => {
    expect(csvField(v)).toBe(want);
  });

  it('has a header line and CRLF line ends', () => {
    const out = formatCsv([buildRow(measured(10, 1, 0, 0, 'x,"y"'))]);
    expect(out).toBe(
      'user,maildir,bytes,storageLimit,storagePercent,messages,messageLimit,messagePercent,status\r\n' +
        '"x,""y""","/srv/mail/x,""y""/Maildir",10,,,1,,,ok\r\n',
    );
  });
});

describe('formatReport', () => {
  const row = buildRow(measured(95, 1, 100, 0));
  it.each(['table', 'json', 'csv'] as const)('%s: nothing at all with --over and no rows (quiet cron)', (format) => {
    expect(formatReport([], format, 90)).toBe('');
  });
  it('without --over, an empty table is nothing at all (cron mails any output); json and csv stay parseable', () => {
    expect(formatReport([], 'table', undefined)).toBe('');
    expect(formatReport([], 'csv', undefined)).toMatch(/^user,/);
    expect(formatReport([], 'json', undefined)).toBe('[]\n');
  });
  it('picks the format', () => {
    expect(formatReport([row], 'json', 90)).toMatch(/^\[/);
    expect(formatReport([row], 'csv', 90)).toMatch(/^user,maildir/);
    expect(formatReport([row], 'table', 90)).toMatch(/^USER /);
  });
});

describe('progress', () => {
  it.each<[boolean, number, boolean]>([
    [false, 5000, false],
    [true, 200, false],
    [true, 201, true],
  ])('tty=%s queued=%d → %s', (tty, n, want) => {
    expect(showProgress(tty, n)).toBe(want);
  });

  it('redraws every 100 Maildirs and at the end only', () => {
    expect(progressUpdate(99, 250)).toBe('');
    expect(progressUpdate(100, 250, 10)).toBe('\rmda quota: [####......] 100/250');
    expect(progressUpdate(250, 250, 10)).toBe('\rmda quota: [##########] 250/250');
  });
});
