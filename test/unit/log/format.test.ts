import { describe, expect, it } from 'vitest';
import { formatDelivery, quote, SEVERITY, syslogFrame, withSeverityToken } from '../../../src/log/format.js';

describe('log format', () => {
  it('one key=value line per delivery', () => {
    expect(
      formatDelivery({ user: 'alice', sender: '', recipient: 'alice@x', messageId: '<m@x>', size: 120, folder: '', status: 'delivered', dsn: '2.0.0', elapsedMs: 12.3 }),
    ).toBe('user=alice from=<> to=<alice@x> msgid=<m@x> size=120 folder=INBOX status=delivered dsn=2.0.0 elapsed=0.012s');
  });
  it('quotes and cleans hostile values', () => {
    const line = formatDelivery({ user: 'a', sender: 'x y', recipient: undefined, messageId: 'evil\nstatus=delivered', size: undefined, folder: undefined, status: 'deferred', dsn: '4.3.0', elapsedMs: 0, detail: 'disk "full"' });
    expect(line).not.toContain('\n');
    expect(line).toContain('msgid="evil?status=delivered"');
    expect(line).toContain('detail="disk \\"full\\""');
  });
  it.each([['plain', 'plain'], ['a b', '"a b"'], ['a=b', '"a=b"'], ['\x00', '?'], ['', '""']])('quote(%j) = %s', (v, want) => expect(quote(v)).toBe(want));
  it('frames RFC 3164 with facility mail', () => {
    const d = new Date(2026, 10, 2, 3, 4, 5);
    expect(syslogFrame(6, 'mda', 42, 'hi', d)).toBe('<22>Nov  2 03:04:05 mda[42]: hi');
    expect(syslogFrame(3, 'mda', 1, 'x', d).startsWith('<19>')).toBe(true);
  });
});

describe('severity tokens (as Postfix msg_warn/msg_error write them)', () => {
  it.each([
    [SEVERITY.info, 'user=a status=delivered', 'user=a status=delivered'],
    [SEVERITY.warning, 'sieve: x', 'warning: sieve: x'],
    [SEVERITY.err, 'internal error: y', 'error: internal error: y'],
  ])('severity %i: %j -> %j', (severity, msg, want) => expect(withSeverityToken(severity, msg)).toBe(want));
});
