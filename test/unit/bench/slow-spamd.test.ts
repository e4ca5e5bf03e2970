/**
 * The flood bench's stand-in scanner (bench/lib/slow-spamd.mjs) must speak
 * the SPAMC/1.5 protocol well enough that mda's own parser reads every reply
 * as a complete ham verdict: otherwise the bench would measure mda's
 * failure path (skipped scans) instead of a 1 s scan.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs bench module without types
import { reply } from '../../../bench/lib/slow-spamd.mjs';
import { parsePong, parseReply } from '../../../src/scanners/spamd/protocol.js';

const MSG = Buffer.from('Subject: hi\r\nFrom: a@example.org\r\n\r\nbody\r\n', 'latin1');
const render = (command: string, body = MSG): Buffer => reply(command, body) as Buffer;

describe('bench stand-in spamd replies', () => {
  it.each(['CHECK', 'SYMBOLS', 'REPORT', 'HEADERS', 'PROCESS'])('spamd PROTOCOL: %s is a complete EX_OK ham reply for mda\'s parser', (command) => {
    const r = parseReply(render(command));
    expect(r).toMatchObject({ ok: true, code: 0, spam: false, score: 0, threshold: 5, partial: false });
  });

  it('spamd PROTOCOL: HEADERS returns the header block with X-Spam-* fields and no body', () => {
    const r = parseReply(render('HEADERS'));
    if (!r.ok) throw new Error(r.why);
    expect(r.headers?.some((h) => /^X-Spam-Status: No,/.test(h))).toBe(true);
    expect(r.body).not.toContain('body\r\n');
  });

  it('spamd PROTOCOL: PROCESS returns the whole message, its line ends kept', () => {
    const lf = Buffer.from('Subject: hi\n\nbody\n', 'latin1');
    const text = render('PROCESS', lf).toString('latin1');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.endsWith('Subject: hi\n\nbody\n')).toBe(true);
    expect(body).not.toContain('\r');
  });

  it('spamd PROTOCOL: PING answers PONG', () => {
    expect(parsePong(render('PING'))).toEqual({ ok: true });
  });
});
