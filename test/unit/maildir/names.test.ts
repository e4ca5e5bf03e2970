import { describe, expect, it } from 'vitest';
import { escapeHost, folderDir, newName, uniqueName } from '../../../src/maildir/names.js';

describe('uniqueName (cr.yp.to/proto/maildir.html)', () => {
  it('is seconds.M<usec>P<pid>Q<seq>.host from one clock reading', () => {
    expect(uniqueName({ nowMs: 1795307519690.4907, pid: 9351, seq: 1, host: 'vm' })).toBe('1795307519.M690490P9351Q1.vm');
  });
  it.each([
    [1000, '1.M0P1Q1.h'],
    [1999.999, '1.M999999P1Q1.h'],
    [0.001, '0.M1P1Q1.h'],
  ])('usec never reaches 1e6 (%f ms)', (ms, want) => {
    expect(uniqueName({ nowMs: ms, pid: 1, seq: 1, host: 'h' })).toBe(want);
  });
  it('has no colon or slash and never starts with a dot', () => {
    const n = uniqueName({ nowMs: Date.now(), pid: 2, seq: 3, host: 'a/b:c,d' });
    expect(n).not.toMatch(/[:/]/);
    expect(n.startsWith('.')).toBe(false);
  });
  it('adds the size in new/', () => expect(newName('1.M2P3Q4.h', 120)).toBe('1.M2P3Q4.h,S=120'));
});

describe('escapeHost', () => {
  it.each([
    ['mx.example.org', 'mx.example.org'],
    ['a/b', 'a\\057b'],
    ['a:b', 'a\\072b'],
    ['a,b', 'a\\054b'],
    ['a\\b', 'a\\134b'],
    ['', 'localhost'],
  ])('%j → %j', (h, want) => expect(escapeHost(h)).toBe(want));
});

describe('folderDir (Maildir++)', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['INBOX', ''],
    ['inbox', ''],
    ['Junk', '.Junk'],
    ['Lists.Debian', '.Lists.Debian'],
    ['INBOX.Lists', '.Lists'], // the same hierarchy under Dovecot's/Courier's "INBOX." namespace prefix
    ['INBOX.', ''],
  ])('%j → %j', (name, dir) => expect(folderDir(name)).toEqual({ ok: true, dir }));

  // One encoder for every source of a folder name (--folder, [spam]/[virus] folder, Sieve fileinto):
  // Dovecot's and Courier's Maildir++ store IMAP names in modified UTF-7 on disk.
  it.each([
    ['Ärger', '.&AMQ-rger'],
    ['Späm', '.Sp&AOQ-m'],
    ['Ünïcode Folder', '.&ANw-n&AO8-code Folder'],
    ['R&D', '.R&-D'],
    ['Lists.Café', '.Lists.Caf&AOk-'],
    ['日本語', '.&ZeVnLIqe-'],
    ['Entwürfe.Über', '.Entw&APw-rfe.&ANw-ber'],
    ['😀', '.&2D3eAA-'], // a surrogate pair is encoded as its two UTF-16 units
  ])('folderDir(%j) = %j (RFC 3501 §5.1.3 modified UTF-7)', (name, dir) => expect(folderDir(name)).toEqual({ ok: true, dir }));

  it.each([
    ['../etc', "'/'"],
    ['a/b', "'/'"],
    ['/abs', "'/'"],
    ['..', "starts with '.'"],
    ['.hidden', "starts with '.'"],
    ['Trailing.', "ends with '.'"],
    ['a..b', "'..'"],
    ['tab\there', 'control'],
    ['nul\0', 'control'],
    ['del\x7f', 'control'],
    ['back\\slash', "'\\'"],
    ['x'.repeat(201), 'longer'],
  ])('refuses %j (%s)', (name, why) => {
    const r = folderDir(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toContain(why);
  });
});
