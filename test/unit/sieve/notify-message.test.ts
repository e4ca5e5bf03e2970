/**
 * The bytes of an enotify mailto notification (RFC 5436 §2): Auto-Submitted: auto-notified,
 * To/Cc from the URI, the Subject encoded, importance fields, nothing that adds a header line.
 */
import { describe, expect, it } from 'vitest';
import { buildNotification } from '../../../src/sieve/notify-message.js';
import type { Notification } from '../../../src/sieve/plan.js';

const CTX = { now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), messageId: '<n1@mx.example.test>' };
const n = (over: Partial<Notification> = {}): Notification => ({
  recipient: 'carol@example.net', sender: 'bob@example.test', from: 'bob@example.test', to: ['carol@example.net'], cc: [],
  subject: 'New mail', body: 'You have mail.\n', importance: '2', headers: [], ...over,
});
const header = (b: Buffer) => b.toString('utf8').split('\r\n\r\n')[0]!.split('\r\n');

describe('buildNotification (RFC 5436 §2)', () => {
  it('RFC 5436 §2.7: Auto-Submitted: auto-notified, a plain text CRLF body', () => {
    expect(buildNotification(n(), CTX).toString('utf8')).toBe([
      'Message-ID: <n1@mx.example.test>',
      'Date: Tue, 02 Jan 2024 03:04:05 +0000',
      'From: <bob@example.test>',
      'To: <carol@example.net>',
      'Subject: New mail',
      'Auto-Submitted: auto-notified',
      'Precedence: bulk',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'You have mail.',
      '',
    ].join('\r\n'));
  });

  it('RFC 5436 §2.1: To and Cc as the URI named them; a :from display name kept', () => {
    const h = header(buildNotification(n({ to: ['a@example.net', 'b@example.net'], cc: ['c@example.net'], from: 'Bob <bob+x@example.test>' }), CTX));
    expect(h).toContain('To: <a@example.net>, <b@example.net>');
    expect(h).toContain('Cc: <c@example.net>');
    expect(h).toContain('From: "Bob" <bob+x@example.test>');
  });

  it.each<[Notification['importance'], string[]]>([
    ['1', ['Importance: High', 'X-Priority: 1 (Highest)']],
    ['3', ['Importance: Low', 'X-Priority: 5 (Lowest)']],
  ])('RFC 5436 §2.4: importance %s', (importance, want) => {
    const h = header(buildNotification(n({ importance }), CTX));
    for (const w of want) expect(h).toContain(w);
  });

  it('a subject or URI field with CR/LF cannot add a header line; non-ASCII is RFC 2047-encoded', () => {
    const h = header(buildNotification(n({ subject: 'Hi\r\nBcc: x@example.net', headers: [['keywords', 'café\nX-Evil: 1']] }), CTX));
    expect(h.some((l) => /^(Bcc|X-Evil):/i.test(l))).toBe(false);
    expect(h).toContain('Subject: Hi Bcc: x@example.net');
    expect(h.find((l) => l.startsWith('Keywords:'))).toMatch(/^Keywords: =\?UTF-8\?B\?/);
  });
});
