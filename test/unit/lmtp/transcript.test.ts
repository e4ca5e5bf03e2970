/**
 * A whole Postfix-like pipelined LMTP session through the pure pieces
 * (parseCommand + session-state + DataDecoder + toLmtpReply), driven by a
 * tiny in-memory stand-in for the connection code, under many chunkings of
 * the client's bytes: the replies and the stored bytes must never change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/lmtp/commands.js';
import { DataDecoder } from '../../../src/lmtp/data-decoder.js';
import { greeting } from '../../../src/lmtp/replies.js';
import { afterData, afterDelivery, afterRcptCheck, initialState, next, type Envelope, type RcptVerdict, type SessionContext } from '../../../src/lmtp/session-state.js';
import { delivered, reject, temp, type Outcome } from '../../../src/outcome/outcome.js';

const seed = process.env.MDA_FC_SEED ? Number(process.env.MDA_FC_SEED) : undefined;
const CTX: SessionContext = { hostname: 'mail.example.org', maxRecipients: 100, maxMessageSize: 10_240_000 };

interface Backend {
  lookup(to: string, size?: number): RcptVerdict;
  deliver(env: Envelope, message: Buffer): Outcome[];
}

/** The connection code in miniature: lines in command phases, the decoder in DATA, pipelined leftovers kept. */
function serve(chunks: Buffer[], backend: Backend): { out: string; stored: Buffer[]; closed: boolean } {
  let state = initialState();
  let out = greeting(CTX.hostname);
  const stored: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let decoder: DataDecoder | undefined;
  let body: Buffer[] = [];
  let closed = false;
  const feed = (bytes: Buffer): void => {
    pending = Buffer.concat([pending, bytes]);
    while (!closed && pending.length > 0) {
      if (decoder) {
        const r = decoder.push(pending);
        body.push(...r.out);
        pending = Buffer.alloc(0);
        if (!r.done) return;
        pending = Buffer.from(r.rest);
        let s = afterData(state, { tooLarge: decoder.tooLarge });
        decoder = undefined;
        out += s.replies.join('');
        if (s.action.action === 'deliver') {
          const message = Buffer.concat(body);
          stored.push(message);
          s = afterDelivery(s.state, backend.deliver(s.action.envelope, message));
          out += s.replies.join('');
        }
        state = s.state;
        continue;
      }
      const lf = pending.indexOf(10);
      if (lf < 0) return;
      const line = pending.subarray(0, lf).toString('utf8').replace(/\r$/, '');
      pending = pending.subarray(lf + 1);
      let r = next(state, parseCommand(line), CTX);
      out += r.replies.join('');
      if (r.action.action === 'check-rcpt') {
        r = afterRcptCheck(r.state, backend.lookup(r.action.to, r.action.size));
        out += r.replies.join('');
      } else if (r.action.action === 'start-data') {
        decoder = new DataDecoder({ maxSize: r.action.maxSize });
        body = [];
      } else if (r.action.action === 'close') closed = true;
      state = r.state;
    }
  };
  for (const c of chunks) feed(c);
  return { out, stored, closed };
}

const MESSAGE = [
  'Return-Path: <ignored@example.com>',
  'From: Alice <alice@example.com>',
  'Subject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=',
  '',
  'Hello.',
  '..a line that began with a dot',
  '.',
  'Ünïcödé body, 8-bit',
  'bare\rCR stays',
  '',
].join('\r\n');

/** What Postfix's lmtp client sends: LHLO, then MAIL/RCPT×3/DATA pipelined (RFC 2920), the body, the dot, QUIT. */
const CLIENT = Buffer.from(
  'LHLO postfix.example.org\r\n' +
    'MAIL FROM:<alice@example.com> SIZE=' + Buffer.byteLength(MESSAGE) + ' BODY=8BITMIME\r\n' +
    'RCPT TO:<bob@example.org>\r\n' +
    'RCPT TO:<nobody@example.org>\r\n' +
    'RCPT TO:<carol@example.org>\r\n' +
    'DATA\r\n' +
    // dot-stuffing as the client does it: every line starting with "." gets one more
    MESSAGE.split('\r\n').map((l) => (l.startsWith('.') ? '.' + l : l)).join('\r\n') +
    '.\r\n' +
    'QUIT\r\n',
);

const WANT =
  '220 mail.example.org LMTP ready\r\n' +
  '250-mail.example.org\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10240000\r\n' +
  '250 2.1.0 Ok\r\n' +
  '250 2.1.5 Ok\r\n' +
  '550 5.1.1 <nobody@example.org> user unknown: no such user\r\n' +
  '250 2.1.5 Ok\r\n' +
  '354 End data with <CR><LF>.<CR><LF>\r\n' +
  '250 2.0.0 <bob@example.org> Saved\r\n' +
  '452 4.2.2 <carol@example.org> Mailbox full: over quota\r\n' +
  '221 2.0.0 Bye\r\n';

const STORED = MESSAGE.replace(/\r\n/g, '\n');

function backend(seen: { envelopes: Envelope[]; sizes: (number | undefined)[] }): Backend {
  return {
    lookup(to, size) {
      seen.sizes.push(size);
      return to.startsWith('nobody@') ? { accept: false, outcome: reject('unknown-user', 'no such user') } : { accept: true };
    },
    deliver(env) {
      seen.envelopes.push(env);
      return env.recipients.map((r) => (r.startsWith('carol@') ? temp('over-quota', 'over quota') : delivered('', `/m/${r}`)));
    },
  };
}

describe('transcript: a Postfix-like pipelined session (RFC 2033, RFC 2920, RFC 5321 §4.5.2)', () => {
  it('RFC 2033 §4.2: LHLO, MAIL SIZE+BODY, 3 RCPT (one unknown), DATA, dot, QUIT: every reply and the stored bytes', () => {
    const seen = { envelopes: [] as Envelope[], sizes: [] as (number | undefined)[] };
    const r = serve([CLIENT], backend(seen));
    expect(r.out).toBe(WANT);
    expect(r.closed).toBe(true);
    expect(r.stored.map((b) => b.toString('utf8'))).toEqual([STORED]);
    expect(seen.sizes).toEqual([Buffer.byteLength(MESSAGE), Buffer.byteLength(MESSAGE), Buffer.byteLength(MESSAGE)]);
    expect(seen.envelopes).toEqual([
      { lhlo: 'postfix.example.org', from: 'alice@example.com', size: Buffer.byteLength(MESSAGE), body: '8BITMIME', smtputf8: false, recipients: ['bob@example.org', 'carol@example.org'] },
    ]);
  });

  it('RFC 2920 §3.1: the same replies and bytes however the client\'s stream is cut into reads', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: CLIENT.length }), { maxLength: 20 }), (points) => {
        const at = [...new Set(points)].sort((a, b) => a - b);
        const chunks = [0, ...at].map((p, i) => CLIENT.subarray(p, at[i] ?? CLIENT.length));
        const seen = { envelopes: [] as Envelope[], sizes: [] as (number | undefined)[] };
        const r = serve(chunks, backend(seen));
        expect(r.out).toBe(WANT);
        expect(Buffer.concat(r.stored).toString('utf8')).toBe(STORED);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('RFC 2920 §3.1: a second pipelined transaction right after the dot is answered in order', () => {
    const two = Buffer.from(
      'LHLO pf\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n.\r\n' +
        'MAIL FROM:<> SIZE=99999999\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\nRSET\r\nQUIT\r\n',
    );
    const r = serve([two], backend({ envelopes: [], sizes: [] }));
    const codes = r.out.split('\r\n').filter(Boolean).map((l) => l.slice(0, 9));
    expect(codes.filter((c) => !c.startsWith('250-'))).toEqual([
      '220 mail.', '250 SIZE ', '250 2.1.0', '250 2.1.5', '354 End d', '250 2.0.0',
      '552 5.3.4', '250 2.0.0', '250 2.1.0', '550 5.1.1', '503 5.5.1', '250 2.0.0', '221 2.0.0',
    ]);
    expect(r.stored.map(String)).toEqual(['x\n']);
  });
});
