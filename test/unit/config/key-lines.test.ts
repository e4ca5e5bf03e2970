import { describe, expect, it } from 'vitest';
import { keyLine, tomlKey } from '../../../src/config/key-lines.js';

// Line numbers are 1-based and written next to each line for easy checking.
const DOC = [
  '# mda config', //                          1
  'top = 1', //                               2
  'delivery.deadline = "30s"', //             3  dotted key at top level
  '', //                                      4
  '[delivery]', //                            5
  'maildir = "~/Maildir" # comment', //       6
  '  max_message_size   =   "50M"', //        7
  '', //                                      8
  '[ log ]', //                               9
  "'target' = 'syslog'", //                   10 literal-quoted key
  '', //                                      11
  '[users.alice]', //                         12
  'maildir = "/srv/alice"', //                13
  '[users."bob smith"]', //                   14
  '"maildir" = "/srv/bob"', //                15 basic-quoted key
  "[users.'a.b']", //                         16 dot inside a quoted name
  'maildir = "/srv/ab"', //                   17
  '[users . "c\\u0064"]', //                  18 escape in a quoted name: "cd"
  'maildir = "/srv/cd"', //                   19
  '[x]', //                                   20
  'inline = { a = 1, b = { c = 2 } }', //     21
  'arr = [', //                               22
  '  "maildir = not a key",', //              23
  '  { nested = 1 },', //                     24
  ']', //                                     25
  'ml = """', //                              26
  'fake = "inside a multi-line string"', //   27
  '[not.a.header]', //                        28
  '"""', //                                   29
  "lit = '''", //                             30
  "[also.not]", //                            31
  "'''", //                                   32
  'after = true', //                          33
  'hash = "# not a comment" # real', //       34
  'esc = "a \\" [b] = c"', //                 35
  'tail = """a""""" ', //                     36 multi-line string ending in extra quotes
  'last = 1', //                              37
  '[[servers]]', //                           38
  'name = "a"', //                            39
].join('\n');

describe('keyLine', () => {
  it.each([
    ['top', 2],
    ['delivery.deadline', 3],
    ['delivery', 3], // first appearance: the dotted key, before the header
    ['delivery.maildir', 6],
    ['delivery.max_message_size', 7],
    ['log', 9],
    ['log.target', 10],
    ['users', 12], // implicit parent: line of [users.alice]
    ['users.alice', 12],
    ['users.alice.maildir', 13],
    ['users."bob smith"', 14],
    ['users."bob smith".maildir', 15],
    ['users."a.b"', 16],
    ['users."a.b".maildir', 17],
    ['users.a', 12], // not ["a.b"]: falls back to the users table
    ['users.cd.maildir', 19],
    ['x', 20],
    ['x.inline', 21],
    ['x.inline.a', 21], // inside an inline table: the parent key's line
    ['x.inline.b.c', 21],
    ['x.arr', 22],
    ['x.ml', 26],
    ['x.fake', 20], // text inside a multi-line string is no key
    ['not.a.header', 1],
    ['also.not', 1],
    ['x.lit', 30],
    ['x.after', 33],
    ['x.hash', 34],
    ['x.esc', 35],
    ['b', 1],
    ['x.tail', 36],
    ['x.last', 37],
    ['servers', 38],
    ['servers.name', 39],
    ['delivery.nope', 3], // unknown key: its table's line
    ['users.alice.nope', 12],
    ['nowhere', 1],
    ['nowhere.at.all', 1],
    ['', 1],
    ['"unterminated', 1],
  ])('%s is on line %d', (key, line) => {
    expect(keyLine(DOC, key)).toBe(line);
  });

  it.each([
    ['empty text', '', 'a', 1],
    ['CRLF line ends', '[a]\r\nb = 1\r\n\r\nc = 2\r\n', 'a.c', 4],
    ['no trailing newline', 'a = 1\nb = 2', 'b', 2],
    ['header with comment', '\n\n[t] # note\nk = 1', 't.k', 4],
    ['array of tables repeats: first wins', '[[s]]\nk = 1\n[[s]]\nk = 2', 's.k', 2],
    ['dotted key inside a table', '[a]\nb.c = 1', 'a.b.c', 2],
    ['dotted key with spaces', 'a . b = 1', 'a.b', 1],
    ['tab indentation', '[a]\n\tk\t=\t1', 'a.k', 2],
    ['garbage lines are skipped', '[a]\n@@@ nonsense\nk = 1', 'a.k', 3],
    ['unterminated string ends at its line', 'a = "oops\nb = 1', 'b', 2],
    ['unclosed header ignored', '[a\nk = 1', 'k', 2],
    ['multi-line array of tables', 'a = [\n  { b = 1 },\n  { c = 2 },\n]\nd = 3', 'd', 5],
    ['line-ending backslash', 'a = """x \\\n  y"""\nb = 1', 'b', 3],
    ['bare-number key', '[t]\n1234 = "x"', 't.1234', 2],
  ])('%s', (_name, text, key, line) => {
    expect(keyLine(text, key)).toBe(line);
  });
});

describe('tomlKey', () => {
  it.each<[string[], string]>([
    [['delivery', 'deadline'], 'delivery.deadline'],
    [['users', 'bob smith', 'maildir'], 'users."bob smith".maildir'],
    [['users', 'a.b'], 'users."a.b"'],
    [['users', ''], 'users.""'],
    [['users', 'a"b'], 'users."a\\"b"'],
    [['users', 'x-y_z9'], 'users.x-y_z9'],
  ])('%j is written %s', (path, key) => {
    expect(tomlKey(path)).toBe(key);
  });

  it.each([['a b'], ['a.b'], ['a"b'], ['ü'], ['tab\there']])('round-trips %j through keyLine', (name) => {
    const text = `\n[users.${JSON.stringify(name)}]\nmaildir = "/x"\n`;
    expect(keyLine(text, tomlKey(['users', name, 'maildir']))).toBe(3);
  });
});

describe('keyLine: quota and lock keys', () => {
  const QUOTA_DOC = [
    '[quota]', //                                                   1
    'storage = "1G"', //                                            2
    'over_quota = "defer"', //                                      3
    '[locks]', //                                                   4
    'timeout = "10s"', //                                           5
    '[users.alice]', //                                             6
    'maildir = "/srv/alice"', //                                    7
    'quota = { storage = "2G", messages = 1000, grace = "10M" }', // 8 inline table
    '[users.bob.quota]', //                                         9 sub-table form
    'messages = 50', //                                             10
    '', //                                                          11
    'grace = "1M"', //                                              12
    '[users."c d"]', //                                             13
    'quota.storage = "5M"', //                                      14 dotted key
  ].join('\n');

  it.each([
    ['quota', 1],
    ['quota.storage', 2],
    ['quota.over_quota', 3],
    ['quota.messages', 1], // absent: its table's line
    ['locks.timeout', 5],
    ['locks.stale', 4],
    ['users.alice.quota', 8],
    ['users.alice.quota.storage', 8],
    ['users.alice.quota.grace', 8],
    ['users.bob', 9],
    ['users.bob.quota', 9],
    ['users.bob.quota.messages', 10],
    ['users.bob.quota.grace', 12],
    ['users."c d".quota.storage', 14],
    ['users."c d".quota', 14],
  ])('%s is on line %d', (key, line) => {
    expect(keyLine(QUOTA_DOC, key)).toBe(line);
  });
});

describe('keyLine: arrays of tables ([[scanner]])', () => {
  const SCAN_DOC = [
    '[delivery]', //                         1
    'deadline = "240s"', //                  2
    '[[scanner]]', //                        3  scanner[0]
    'type = "spamd"', //                     4
    'hosts = ["127.0.0.1:783"]', //          5
    '', //                                   6
    '[[scanner]]', //                        7  scanner[1]
    'type = "filter"', //                    8
    'command = [', //                        9
    '  "/usr/bin/x",', //                    10
    ']', //                                  11
    'timeout = "5s"', //                     12
    '[scanner.extra]', //                    13 sub-table of scanner[1]
    'k = 1', //                              14
    '[[ scanner ]]', //                      15 scanner[2], spaces inside the brackets
    'timeout = "1s"', //                     16
    '[scanning]', //                         17
    'breaker_failures = 5', //               18
    '[[a]]', //                              19 a[0]
    '[[a.b]]', //                            20 a[0].b[0]
    'x = 1', //                              21
    '[[a]]', //                              22 a[1]
    '[[a.b]]', //                            23 a[1].b[0]
    'x = 2', //                              24
    '[[a.b]]', //                            25 a[1].b[1]
    'x = 3', //                              26
  ].join('\n');

  it.each([
    ['scanner', 3],
    ['scanner[0]', 3],
    ['scanner[0].type', 4],
    ['scanner[0].hosts', 5],
    ['scanner[0].timeout', 3], // absent: its table's line
    ['scanner[1]', 7],
    ['scanner[1].type', 8],
    ['scanner[1].command', 9],
    ['scanner[1].timeout', 12],
    ['scanner[1].extra', 13],
    ['scanner[1].extra.k', 14],
    ['scanner[2]', 15],
    ['scanner[2].timeout', 16],
    ['scanner[2].type', 15],
    ['scanner[3].type', 3], // no such element: the array's first line
    ['scanner.timeout', 12], // without an index: the first table that has it
    ['scanner.type', 4],
    ['scanning.breaker_failures', 18],
    ['a[0].b[0].x', 21],
    ['a[1].b[0].x', 24],
    ['a[1].b[1].x', 26],
    ['a[1].b[1]', 25],
    ['a[1]', 22],
    ['a.b.x', 21],
    ['scanner[x].type', 1], // not an index: not a key
  ])('%s is on line %d', (key, line) => {
    expect(keyLine(SCAN_DOC, key)).toBe(line);
  });

  it.each<[(string | number)[], string]>([
    [['scanner', 1, 'timeout'], 'scanner[1].timeout'],
    [['scanner', 0], 'scanner[0]'],
    [['a', 1, 'b', 0, 'x'], 'a[1].b[0].x'],
    [['users', 'a b', 'quota'], 'users."a b".quota'],
  ])('tomlKey(%j) is %s', (path, key) => {
    expect(tomlKey(path)).toBe(key);
  });
});
