import { describe, expect, it } from 'vitest';
import { canonicalMailbox, encodeMutf7, mailboxDir } from '../../../src/sieve/mailbox-name.js';

describe('mailbox names', () => {
  it.each([
    ['Lists', 'Lists'], ['A&B', 'A&-B'], ['Café', 'Caf&AOk-'], ['日本語', '&ZeVnLIqe-'], ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['a\u00e9\u00e9b', 'a&AOkA6Q-b'],
  ])('encodeMutf7(%j) = %j (RFC 3501 §5.1.3)', (i, o) => expect(encodeMutf7(i)).toBe(o));

  it.each([['inbox', 'INBOX'], ['', 'INBOX'], ['Inbox', 'INBOX'], ['Junk', 'Junk']])('canonicalMailbox(%j)', (i, o) => expect(canonicalMailbox(i)).toBe(o));

  it.each<[string, string | RegExp]>([
    ['INBOX', ''], ['Junk', '.Junk'], ['Lists.Debian', '.Lists.Debian'], ['INBOX.Lists', '.Lists'], ['Café', '.Caf&AOk-'],
    ['../etc', /'\/'|'\.'|'\.\.'/], ['a/b', /'\/'/], ['.hidden', /starts with/], ['a\nb', /control/],
  ])('mailboxDir(%j)', (name, want) => {
    const r = mailboxDir(name);
    if (typeof want === 'string') expect(r).toEqual({ ok: true, dir: want });
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.why).toMatch(want);
    }
  });
});
