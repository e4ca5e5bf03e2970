import { describe, expect, it } from 'vitest';
import { delivered, discarded, reject, temp, type Outcome, type RejectCause, type TempCause } from '../../../src/outcome/outcome.js';
import { REJECT_TABLE, TEMP_TABLE, toExit } from '../../../src/outcome/to-exit.js';
import { toLmtpReply } from '../../../src/outcome/to-lmtp.js';

const RCPT = 'bob@example.org';
const failures: Outcome[] = [
  ...(Object.keys(TEMP_TABLE) as TempCause[]).map((c) => temp(c, 'detail\nwith\r\ncontrols')),
  ...(Object.keys(REJECT_TABLE) as RejectCause[]).map((c) => reject(c, 'detail')),
];

describe('toLmtpReply: the per-recipient reply after DATA (RFC 2033 §4.2)', () => {
  it.each(failures.map((o) => [`${o.kind}/${'cause' in o ? o.cause : ''}`, o]))(
    'RFC 3463 §2 + RFC 5321 §4.2.1: %s has reply class = DSN class, the same DSN as toExit, one CRLF line',
    (_n, o) => {
      const line = toLmtpReply(o, RCPT);
      const m = /^([245])(\d\d) ([245])\.(\d{1,3})\.(\d{1,3}) (.*)\r\n$/.exec(line);
      expect(m).not.toBeNull();
      expect(m![1]).toBe(m![3]); // 4.x.y ⇔ 4yz, 5.x.y ⇔ 5yz
      expect(`${m![3]}.${m![4]}.${m![5]}`).toBe(toExit(o).dsn);
      expect(line.slice(0, 3)).not.toBe('421'); // 421 closes the connection, never per recipient
      expect(m![6]).toContain(`<${RCPT}>`);
      expect(line.slice(0, -2)).not.toMatch(/[\x00-\x1f\x7f]/);
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(512); // RFC 5321 §4.5.3.1.5
    },
  );

  it.each<[string, Outcome, string]>([
    ['RFC 2033 §4.2: delivered', delivered('', '/m/new/x'), `250 2.0.0 <${RCPT}> Saved\r\n`],
    ['RFC 2033 §4.2: a Sieve discard looks like a delivery (no leak in a success DSN)', discarded('sieve'), `250 2.0.0 <${RCPT}> Saved\r\n`],
    ['RFC 3463 4.2.2 / RFC 5321 452: over quota, deferred', temp('over-quota', 'q'), `452 4.2.2 <${RCPT}> Mailbox full: q\r\n`],
    ['RFC 3463 4.2.2: filesystem quota', temp('mailbox-full', 'EDQUOT'), `452 4.2.2 <${RCPT}> mailbox full: EDQUOT\r\n`],
    ['RFC 3463 4.3.1 / RFC 5321 452: disk full', temp('disk-full', 'ENOSPC'), `452 4.3.1 <${RCPT}> mail system full: ENOSPC\r\n`],
    ['RFC 3463 4.2.0 / RFC 5321 450: mailbox busy', temp('mailbox-busy', 'lock'), `450 4.2.0 <${RCPT}> mailbox busy, will retry: lock\r\n`],
    ['RFC 3463 4.3.0 / RFC 5321 451: local error', temp('io', 'EIO'), `451 4.3.0 <${RCPT}> I/O error: EIO\r\n`],
    ['RFC 3463 4.4.7 / RFC 5321 451: deadline', temp('deadline', ''), `451 4.4.7 <${RCPT}> delivery time limit reached, will retry\r\n`],
    ['RFC 3463 5.1.1 / RFC 5321 550: user unknown', reject('unknown-user', 'no such user'), `550 5.1.1 <${RCPT}> user unknown: no such user\r\n`],
    ['RFC 3463 5.2.2 / RFC 5321 552: mailbox full', reject('over-quota', 'q'), `552 5.2.2 <${RCPT}> Mailbox full: q\r\n`],
    ['RFC 3463 5.2.3 / RFC 5321 552: too large', reject('too-large', 'big'), `552 5.2.3 <${RCPT}> message too large: big\r\n`],
    ['RFC 3463 5.4.6 / RFC 5321 554: loop', reject('loop', 'Delivered-To'), `554 5.4.6 <${RCPT}> mail forwarding loop: Delivered-To\r\n`],
  ])('%s', (_n, o, want) => {
    expect(toLmtpReply(o, RCPT)).toBe(want);
  });

  it('RFC 5321 §4.5.3.1.5: a long detail and a long address still make one line of at most 512 octets', () => {
    const line = toLmtpReply(temp('io', 'é'.repeat(400)), 'x'.repeat(250) + '@example.org');
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(512);
    expect(line).toMatch(/^451 4\.3\.0 <x+@example\.org> I\/O error: é+\.\.\.\r\n$/);
  });

  it('turns an unknown outcome or cause into a 451 deferral, never a crash or a bounce', () => {
    expect(toLmtpReply({ kind: 'nonsense' } as unknown as Outcome, RCPT)).toMatch(/^451 4\.3\.0 /);
    expect(toLmtpReply({ kind: 'reject', cause: 'nope', detail: '' } as unknown as Outcome, RCPT)).toMatch(/^451 4\.3\.0 /);
    expect(toLmtpReply({ kind: 'temp', cause: 'nope', detail: '' } as unknown as Outcome, RCPT)).toMatch(/^451 4\.3\.0 /);
  });

  it('keeps control characters and angle brackets of the address out of the reply', () => {
    expect(toLmtpReply(delivered('', 'x'), 'a\r\n250 b<c>@x')).toBe('250 2.0.0 <a250 bc@x> Saved\r\n');
  });
});
