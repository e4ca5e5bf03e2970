import { describe, expect, it } from 'vitest';
import { MAX_ATTRIBUTES, MAX_REQUEST_CHARS, parsePolicyRequest, RequestCollector } from '../../../src/policy/request.js';

/** What smtpd sends at RCPT (SMTPD_POLICY_README, "Protocol description"), trimmed. */
const SMTPD_RCPT = [
  'request=smtpd_access_policy', 'protocol_state=RCPT', 'protocol_name=ESMTP', 'client_address=192.0.2.7',
  'client_name=mx.example.net', 'helo_name=mx.example.net', 'sender=a@example.net', 'recipient=Bob@Example.ORG',
  'recipient_count=0', 'queue_id=', 'instance=123.456.7', 'size=12345', 'etrn_domain=', 'stress=',
  'sasl_method=', 'ccert_subject=', 'policy_context=', 'server_address=192.0.2.1', 'server_port=25', 'compatibility_level=3.6',
];

describe('parsePolicyRequest (SMTPD_POLICY_README)', () => {
  it.each([
    ['a full smtpd RCPT request', SMTPD_RCPT, { request: 'smtpd_access_policy', protocolState: 'RCPT', recipient: 'Bob@Example.ORG', sender: 'a@example.net', size: 12345, clientAddress: '192.0.2.7' }],
    ['no size attribute: 0', ['request=smtpd_access_policy', 'protocol_state=RCPT', 'recipient=a@b'], { size: 0 }],
    ['size not a number: 0', ['size=12x'], { size: 0 }],
    ['size empty: 0', ['size='], { size: 0 }],
    ['RFC 1870 §4: a 20-digit size is kept as the largest safe number', ['size=99999999999999999999'], { size: Number.MAX_SAFE_INTEGER }],
    ['protocol_state is read case-insensitively', ['protocol_state=rcpt'], { protocolState: 'RCPT' }],
    ['a value holding "=" keeps everything after the first one', ['recipient="a=b"@c'], { recipient: '"a=b"@c' }],
    ['unknown attributes are tolerated', ['future_attribute=x', 'recipient=a@b'], { recipient: 'a@b' }],
    ['a repeated attribute: the last one wins', ['recipient=a@b', 'recipient=c@d'], { recipient: 'c@d' }],
    ['the null sender is empty', ['sender='], { sender: '' }],
  ])('%s', (_name, lines, expected) => {
    const r = parsePolicyRequest(lines);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.request).toMatchObject(expected);
  });

  it.each([
    ['no attributes', [], 'an empty request'],
    ['a line without "="', ['request=smtpd_access_policy', 'garbage'], 'not a name=value attribute'],
    ['an empty name', ['=value'], 'not a name=value attribute'],
    ['too many attributes', Array.from({ length: MAX_ATTRIBUTES + 1 }, (_, i) => `a${i}=x`), `more than ${MAX_ATTRIBUTES} attributes`],
  ])('refused: %s', (_name, lines, why) => {
    const r = parsePolicyRequest(lines);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toContain(why);
  });
});

describe('RequestCollector', () => {
  it('one request per empty line, several on one connection', () => {
    const c = new RequestCollector();
    expect(c.push('request=smtpd_access_policy')).toEqual({ kind: 'more' });
    expect(c.pending).toBe(true);
    expect(c.push('recipient=a@b')).toEqual({ kind: 'more' });
    expect(c.push('')).toMatchObject({ kind: 'request', request: { recipient: 'a@b' } });
    expect(c.pending).toBe(false);
    c.push('recipient=c@d');
    expect(c.push('')).toMatchObject({ kind: 'request', request: { recipient: 'c@d', request: '' } });
  });

  it('an empty line alone is a broken request (still answered)', () => {
    expect(new RequestCollector().push('')).toEqual({ kind: 'broken', why: 'an empty request' });
  });

  it('over MAX_ATTRIBUTES: dropped until the empty line, then broken; the next request is read normally', () => {
    const c = new RequestCollector();
    for (let i = 0; i < MAX_ATTRIBUTES * 3; i++) expect(c.push(`a${i}=x`)).toEqual({ kind: 'more' });
    expect(c.push('')).toEqual({ kind: 'broken', why: `more than ${MAX_ATTRIBUTES} attributes` });
    c.push('recipient=a@b');
    expect(c.push('')).toMatchObject({ kind: 'request', request: { recipient: 'a@b' } });
  });

  it('over MAX_REQUEST_CHARS in total: broken', () => {
    const c = new RequestCollector();
    const line = `x=${'y'.repeat(8000)}`;
    for (let i = 0; i * line.length <= MAX_REQUEST_CHARS; i++) c.push(line);
    expect(c.push('')).toEqual({ kind: 'broken', why: `more than ${MAX_REQUEST_CHARS} characters` });
  });
});
