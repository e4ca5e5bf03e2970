import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress } from '../../../src/server/listen-address.js';

describe('parseListenAddress', () => {
  it.each([
    ['unix:/var/spool/postfix/private/mda', { kind: 'unix', path: '/var/spool/postfix/private/mda' }],
    ['127.0.0.1:24', { kind: 'tcp', host: '127.0.0.1', port: 24 }],
    ['127.0.0.1:0', { kind: 'tcp', host: '127.0.0.1', port: 0 }],
    ['[::1]:24', { kind: 'tcp', host: '::1', port: 24 }],
    ['[2001:db8::5]:2424', { kind: 'tcp', host: '2001:db8::5', port: 2424 }],
    ['localhost:65535', { kind: 'tcp', host: 'localhost', port: 65535 }],
    ['mail-1.example.org:24', { kind: 'tcp', host: 'mail-1.example.org', port: 24 }],
    ['*:24', { kind: 'tcp', host: '', port: 24 }],
  ])('%s', (text, address) => {
    expect(parseListenAddress(text)).toEqual({ ok: true, address });
  });

  it.each([
    ['unix:relative/path', 'absolute path'],
    ['unix:', 'absolute path'],
    ['unix:/run/mda/', 'not a directory'],
    [`unix:/${'x'.repeat(107)}`, 'at most 107 bytes'],
    ['/run/mda.sock', 'expected unix:/path or HOST:PORT'],
    ['127.0.0.1', 'expected unix:/path or HOST:PORT'],
    ['127.0.0.1:', 'the port must be a number'],
    ['127.0.0.1:65536', 'the port must be a number from 0 to 65535'],
    ['127.0.0.1:-1', 'the port must be a number'],
    ['::1:24', 'needs brackets'],
    ['[::g]:24', 'is not an IPv6 address'],
    ['[127.0.0.1]:24', 'is not an IPv6 address'],
    ['bad_host:24', 'is not a host name'],
    [':24', 'is not a host name'],
  ])('%s is refused (%s)', (text, why) => {
    const r = parseListenAddress(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toContain(why);
  });

  it.each(['unix:/run/mda/lmtp', '127.0.0.1:24', '[::1]:24', '*:24'])('formatListenAddress(parse(%s)) gives it back', (text) => {
    const r = parseListenAddress(text);
    if (!r.ok) throw new Error(r.why);
    expect(formatListenAddress(r.address)).toBe(text);
  });
});
