import { describe, expect, it } from 'vitest';
import { implicitKeepPlan, type SievePlan } from '../../../src/sieve/plan.js';
import { maildirInfo, storeTargets, storedName } from '../../../src/sieve/targets.js';

const plan = (over: Partial<SievePlan>): SievePlan => ({ ...implicitKeepPlan(), ...over });
const short = (r: ReturnType<typeof storeTargets>) => (r.ok ? r.targets.map((t) => `${t.mailbox}→${JSON.stringify(t.dir)}${t.flags.length ? `[${t.flags}]` : ''}${t.create ? '' : ' (no create)'}`) : r.why);

describe('storeTargets', () => {
  it.each<[string, Partial<SievePlan>, string, string, string[] | string]>([
    ['implicit keep to INBOX', {}, '', '', ['INBOX→""']],
    ['implicit keep with --folder', {}, 'Work', '', ['Work→".Work"']],
    ['implicit keep of spam → [spam] folder', {}, '', 'Junk', ['Junk→".Junk"']],
    ['explicit keep of spam → INBOX (the script wins)', { keep: { flags: [], implicit: false } }, '', 'Junk', ['INBOX→""']],
    ['fileinto of spam → that folder', { keep: null, fileinto: [{ mailbox: 'Lists', flags: [], create: false }] }, '', 'Junk', ['Lists→".Lists" (no create)']],
    ['discard', { keep: null }, '', 'Junk', []],
    ['keep + fileinto INBOX: one copy, flags merged', { keep: { flags: ['\\Seen'], implicit: false }, fileinto: [{ mailbox: 'inbox', flags: ['\\Flagged'], create: false }] }, '', '', ['INBOX→""[\\Seen,\\Flagged]']],
    ['implicit keep of spam + fileinto :copy INBOX: two copies', { fileinto: [{ mailbox: 'INBOX', flags: [], create: false }] }, '', 'Junk', ['Junk→".Junk"', 'INBOX→"" (no create)']],
    ['fileinto the [spam] folder and implicit keep of spam: one copy', { fileinto: [{ mailbox: 'Junk', flags: ['x'], create: false }] }, '', 'Junk', ['Junk→".Junk"[x]']],
    ['INBOX.Sub names .Sub', { keep: null, fileinto: [{ mailbox: 'INBOX.Sub', flags: [], create: true }] }, '', '', ['INBOX.Sub→".Sub"']],
    ['UTF-8 folder → modified UTF-7', { keep: null, fileinto: [{ mailbox: 'Café', flags: [], create: true }] }, '', '', ['Café→".Caf&AOk-"']],
    ['a bad folder is refused', { keep: null, fileinto: [{ mailbox: 'a/b', flags: [], create: true }] }, '', '', 'folder "a/b": folder name contains \'/\''],
  ])('%s', (_, p, keepFolder, spamFolder, want) => {
    expect(short(storeTargets({ plan: plan(p), keepFolder, spamFolder }))).toEqual(want);
  });
});

describe('maildir info', () => {
  it.each<[string[], string, string[]]>([
    [[], '', []],
    [['\\Seen'], 'S', []],
    [['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'], 'DFRST', []],
    [['\\seen', '\\SEEN'], 'S', []],
    [['$Label1', '\\Flagged', '\\Recent'], 'F', ['$Label1', '\\Recent']],
  ])('maildirInfo(%j) = %j', (flags, letters, dropped) => expect(maildirInfo(flags)).toEqual({ letters, dropped }));

  it('storedName: new/ without flags, cur/ with :2,', () => {
    expect(storedName('1.M2P3Q4.h,S=10', '')).toEqual({ sub: 'new', name: '1.M2P3Q4.h,S=10' });
    expect(storedName('1.M2P3Q4.h,S=10', 'FS')).toEqual({ sub: 'cur', name: '1.M2P3Q4.h,S=10:2,FS' });
  });
});
