import { describe, expect, it } from 'vitest';
import { actionLine, fromQuota, fromResolution, screenRequest, type Decision } from '../../../src/policy/decide.js';
import { parsePolicyRequest, type PolicyRequest } from '../../../src/policy/request.js';
import { rcptReply } from '../../../src/recipients/rcpt-reply.js';

function req(attrs: Record<string, string>): PolicyRequest {
  const all = { request: 'smtpd_access_policy', protocol_state: 'RCPT', ...attrs };
  const r = parsePolicyRequest(Object.entries(all).map(([k, v]) => `${k}=${v}`));
  if (!r.ok) throw new Error(r.why);
  return r.request;
}
const scope = (domains: string[] = ['example.org']) => ({ domains: new Set(domains), delimiters: '+' });
const aliases = (names: string[] = ['sales', 'abuse'], trouble?: string) => ({ names: new Set(names), ...(trouble ? { trouble } : {}) });

describe('screenRequest: what mda may judge', () => {
  it.each([
    ['an RCPT request for a local domain is judged', { recipient: 'alice@example.org' }, scope(), 'judge'],
    ['the domain is compared case-insensitively and without a trailing dot', { recipient: 'alice@EXAMPLE.org.' }, scope(), 'judge'],
    ['an empty [delivery] domains judges every domain', { recipient: 'alice@anything.test' }, scope([]), 'judge'],
    ['SMTPD_POLICY_README: protocol_state=DATA is not judged', { protocol_state: 'DATA', recipient: 'alice@example.org' }, scope(), 'DUNNO'],
    ['SMTPD_POLICY_README: protocol_state=END-OF-MESSAGE is not judged', { protocol_state: 'END-OF-MESSAGE', recipient: 'alice@example.org' }, scope(), 'DUNNO'],
    ['MAIL stage (no recipient yet)', { protocol_state: 'MAIL' }, scope(), 'DUNNO'],
    ['not an smtpd_access_policy request', { request: 'junk', recipient: 'alice@example.org' }, scope(), 'DUNNO'],
    ['RCPT without a recipient', { recipient: '' }, scope(), 'DUNNO'],
    ['a domain not in [delivery] domains', { recipient: 'alice@other.org' }, scope(), 'DUNNO'],
    ['a recipient without a domain', { recipient: 'alice' }, scope(), 'DUNNO'],
    ['RFC 5321 §4.5.1: postmaster is always accepted', { recipient: 'Postmaster@example.org' }, scope(), 'DUNNO'],
    ['aliases(5): an alias name', { recipient: 'Sales@example.org' }, scope(), 'DUNNO'],
    ['aliases(5): an alias name with an extension (local(8) tries user+ext, then user)', { recipient: 'sales+x@example.org' }, scope(), 'DUNNO'],
    ['an unusable address is left to Postfix', { recipient: '@relay:' }, scope(), 'DUNNO'],
  ])('%s', (_name, attrs, sc, expected) => {
    const s = screenRequest(req(attrs), sc, aliases());
    if (expected === 'judge') expect(s).toEqual({ kind: 'judge', address: attrs.recipient });
    else expect(s).toMatchObject({ kind: 'answer', decision: { verdict: 'dunno' } });
  });

  it('an alias file that cannot be read: DUNNO as trouble (no name can be ruled out)', () => {
    const s = screenRequest(req({ recipient: 'carol@example.org' }), scope(), aliases([], '/etc/aliases: EACCES'));
    expect(s).toMatchObject({ kind: 'answer', decision: { verdict: 'dunno', trouble: 'alias files: /etc/aliases: EACCES' } });
  });
});

describe('fromResolution and fromQuota', () => {
  it('unknown → 550 5.1.1 (RFC 3463 §3.2 X.1.1)', () => {
    expect(fromResolution({ kind: 'unknown', why: 'no [users] entry for carol' })).toEqual({ verdict: 'refuse', why: 'no [users] entry for carol', reply: rcptReply('unknown') });
  });
  it('a lookup that cannot tell → DUNNO as trouble, never 451', () => {
    expect(fromResolution({ kind: 'temp', why: 'LDAP down' })).toMatchObject({ verdict: 'dunno', trouble: 'recipient lookup: LDAP down' });
  });
  it('a user → the quota check of their Maildir', () => {
    const r = fromResolution({ kind: 'user', user: 'alice', extension: '', matchedBy: 'users', uid: 1000, switchTo: undefined, home: '/h', maildir: '/h/Maildir' });
    expect(r).toEqual({ kind: 'quota', target: { user: 'alice', maildir: '/h/Maildir', uid: 1000 } });
  });
  it('a user whose inbox is an mbox → the quota check of that file', () => {
    const mbox = { inbox: '/var/mail/alice', folders: undefined, folderMaildir: '/h/Maildir' };
    const r = fromResolution({ kind: 'user', user: 'alice', extension: '', matchedBy: 'users', uid: 1000, switchTo: undefined, home: '/h', maildir: '/h/Maildir', mbox });
    expect(r).toEqual({ kind: 'quota', target: { user: 'alice', maildir: '/h/Maildir', uid: 1000, mbox: { inbox: '/var/mail/alice' } } });
  });
  it.each([
    ['fits → DUNNO', { verdict: 'ok' as const, why: 'fits' }, { verdict: 'dunno' }],
    ['maildirsize not read → DUNNO as trouble', { verdict: 'ok' as const, why: 'maildirsize not read: EACCES', unread: true as const }, { verdict: 'dunno', trouble: 'quota check: maildirsize not read: EACCES' }],
    ['an mbox not read → DUNNO as trouble', { verdict: 'ok' as const, why: 'mbox not read: EACCES', unread: true as const }, { verdict: 'dunno', trouble: 'quota check: mbox not read: EACCES' }],
    ['maildirsize missing → DUNNO (no trouble: the commit recounts)', { verdict: 'ok' as const, why: 'maildirsize is missing' }, { verdict: 'dunno', why: 'maildirsize is missing' }],
  ])('%s', (_n, v, expected) => {
    const d = fromQuota(v);
    expect(d).toMatchObject(expected);
    if (v.why === 'maildirsize is missing') expect(d).not.toHaveProperty('trouble');
  });
  it('over → the verdict\'s reply', () => {
    const d = fromQuota({ verdict: 'over', limit: 'storage', from: 'config', detail: 'd', outcome: { kind: 'temp', cause: 'over-quota' as never, detail: 'd' }, reply: rcptReply('over-defer') });
    expect(d).toEqual({ verdict: 'refuse', why: 'd', reply: rcptReply('over-defer') });
  });
});

describe('actionLine: one action= line, codes fixed, texts configurable', () => {
  const texts = { unknownText: 'No such mailbox here', overQuotaText: 'Over quota' };
  it.each<[string, Decision, string]>([
    ['DUNNO', { verdict: 'dunno', why: 'x' }, 'action=DUNNO'],
    ['DUNNO on trouble', { verdict: 'dunno', why: 'x', trouble: 'y' }, 'action=DUNNO'],
    ['unknown: 550 5.1.1, not REJECT (which Postfix sends as 554)', { verdict: 'refuse', why: 'x', reply: rcptReply('unknown') }, 'action=550 5.1.1 No such mailbox here'],
    ['RFC 3463 X.2.2, bounce: 552 5.2.2', { verdict: 'refuse', why: 'x', reply: rcptReply('over-bounce') }, 'action=552 5.2.2 Over quota'],
    ['RFC 3463 X.2.2, defer: 452 4.2.2', { verdict: 'refuse', why: 'x', reply: rcptReply('over-defer') }, 'action=452 4.2.2 Over quota'],
  ])('%s', (_n, d, line) => {
    expect(actionLine(d, texts)).toBe(line);
  });
});
