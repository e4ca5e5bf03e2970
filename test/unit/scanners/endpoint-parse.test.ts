/**
 * Scanner endpoint syntax, /etc/hosts parsing, resolution without DNS, and the
 * host try order.
 */
import { describe, expect, it } from 'vitest';
import { isIPv4, isIPv6, orderHosts, parseEndpoint, parseHostsFile, staticAddresses } from '../../../src/scanners/endpoint-parse.js';

describe('parseEndpoint', () => {
  it.each([
    ['127.0.0.1:783', undefined, { kind: 'tcp', host: '127.0.0.1', port: 783, literal: 4, label: '127.0.0.1:783' }],
    ['  10.1.2.3:3310 ', undefined, { kind: 'tcp', host: '10.1.2.3', port: 3310, literal: 4, label: '10.1.2.3:3310' }],
    ['[::1]:783', undefined, { kind: 'tcp', host: '::1', port: 783, literal: 6, label: '[::1]:783' }],
    ['[2001:db8::10]:3310', undefined, { kind: 'tcp', host: '2001:db8::10', port: 3310, literal: 6, label: '[2001:db8::10]:3310' }],
    ['[::ffff:192.0.2.1]:1', undefined, { kind: 'tcp', host: '::ffff:192.0.2.1', port: 1, literal: 6, label: '[::ffff:192.0.2.1]:1' }],
    ['localhost:783', undefined, { kind: 'tcp', host: 'localhost', port: 783, literal: 0, label: 'localhost:783' }],
    ['Spamd.Example.TEST:65535', undefined, { kind: 'tcp', host: 'spamd.example.test', port: 65535, literal: 0, label: 'spamd.example.test:65535' }],
    ['clamd_1', 3310, { kind: 'tcp', host: 'clamd_1', port: 3310, literal: 0, label: 'clamd_1:3310' }],
    ['[::1]', 783, { kind: 'tcp', host: '::1', port: 783, literal: 6, label: '[::1]:783' }],
    ['[fe80::1%eth0]:783', undefined, { kind: 'tcp', host: 'fe80::1%eth0', port: 783, literal: 6, label: '[fe80::1%eth0]:783' }],
    ['/run/clamav/clamd.ctl', undefined, { kind: 'unix', path: '/run/clamav/clamd.ctl', label: '/run/clamav/clamd.ctl' }],
  ])('%j', (spec, defaultPort, endpoint) => {
    expect(parseEndpoint(spec, defaultPort)).toEqual({ ok: true, endpoint });
  });

  it.each([
    ['', /empty endpoint/],
    ['127.0.0.1', /port is required/],
    ['127.0.0.1:0', /bad port "0"/],
    ['127.0.0.1:65536', /bad port/],
    ['127.0.0.1:78x', /bad port/],
    ['127.0.0.1:', /bad port ""/],
    ['::1:783', /needs brackets/],
    ['[::1:783', /expected \[IPv6\]:port/],
    ['[::1]x', /expected \[IPv6\]:port/],
    ['[127.0.0.1]:783', /not an IPv6 address/],
    ['[fe80::1%]:783', /not an IPv6 address/],
    ['[fe80::1%eth0/x]:783', /not an IPv6 address/],
    ['[gggg::1]:783', /not an IPv6 address/],
    ['256.1.1.1:783', /not an IPv4 address or host name/],
    ['127.1:783', /not an IPv4 address or host name/],
    ['bad host:783', /not an IPv4 address or host name/],
    ['-x.example:783', /not an IPv4 address or host name/],
    ['a..b:783', /not an IPv4 address or host name/],
    [`/${'x'.repeat(107)}`, /socket path longer than 107 bytes/],
    ['/tmp/a\0b', /NUL byte/],
  ])('%j is refused', (spec, why) => {
    const r = parseEndpoint(spec);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.why).toMatch(why);
  });
});

describe('address literals', () => {
  it.each(['0.0.0.0', '127.0.0.1', '255.255.255.255', '10.20.30.40'])('IPv4 %s', (a) => expect(isIPv4(a)).toBe(true));
  it.each(['256.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d', ''])('not IPv4 %j', (a) => expect(isIPv4(a)).toBe(false));
  it.each(['::', '::1', '2001:db8::1', 'fe80::1:2:3:4', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8'])('IPv6 %s', (a) => expect(isIPv6(a)).toBe(true));
  it.each(['1:2:3:4:5:6:7:8:9', ':::', '::g', 'fe80::1%lo', '127.0.0.1', 'localhost', '[::1]'])('not IPv6 %j', (a) => expect(isIPv6(a)).toBe(false));
});

describe('parseHostsFile and staticAddresses', () => {
  const hosts = parseHostsFile(
    [
      '# The following lines are desirable for IPv6 capable hosts',
      '127.0.0.1\tlocalhost',
      '::1     localhost ip6-localhost ip6-loopback',
      '10.0.0.5 spamd.internal spamd   # the scanner box',
      'fe00::0 ip6-localnet',
      '2001:db8::5 spamd.internal',
      '10.0.0.6 Clamd.Internal.',
      'fe80::1%eth0 linklocal',
      'not-an-address bogus',
      '10.0.0.7',
      '',
    ].join('\n'),
  );
  it('maps lower-cased names to addresses in file order', () => {
    expect(hosts.get('spamd.internal')).toEqual(['10.0.0.5', '2001:db8::5']);
    expect(hosts.get('spamd')).toEqual(['10.0.0.5']);
    expect(hosts.get('clamd.internal')).toEqual(['10.0.0.6']);
    expect(hosts.get('ip6-localnet')).toEqual(['fe00::0']);
    expect(hosts.has('linklocal')).toBe(false);
    expect(hosts.has('bogus')).toBe(false);
  });
  it.each([
    ['127.0.0.1', ['127.0.0.1']],
    ['::1', ['::1']],
    ['localhost', ['127.0.0.1']],
    ['LOCALHOST.', ['127.0.0.1']],
    ['spamd.internal', ['10.0.0.5', '2001:db8::5']],
    ['SPAMD', ['10.0.0.5']],
    ['clamd.internal.', ['10.0.0.6']],
    ['ip6-loopback', ['::1']],
    ['elsewhere.example', null],
  ])('staticAddresses(%j)', (host, want) => expect(staticAddresses(host, hosts)).toEqual(want));
});

describe('orderHosts', () => {
  const hosts = ['a', 'b', 'c', 'd'];
  it('keeps the configured order', () => {
    expect(orderHosts(hosts, 'ordered', () => 0)).toEqual(hosts);
  });
  it('shuffles with the given random source, without losing or repeating hosts', () => {
    expect(orderHosts(hosts, 'shuffle', () => 0)).toEqual(['b', 'c', 'd', 'a']);
    expect(orderHosts(hosts, 'shuffle', () => 0.999)).toEqual(hosts);
    for (let i = 0; i < 50; i++) expect([...orderHosts(hosts, 'shuffle')].sort()).toEqual(hosts);
  });
  it('does not modify its input', () => {
    const input = ['x', 'y'];
    orderHosts(input, 'shuffle', () => 0);
    expect(input).toEqual(['x', 'y']);
  });
});
