/**
 * Where mda inserts its own header fields: right after the fields Postfix
 * prepended (Return-Path, X-Original-To, Delivered-To), so Return-Path stays
 * the first line and our scan results come before anything the sender wrote
 * (a forged X-Spam-Flag further down is then not the first one a reader sees).
 * Pure: no I/O.
 */

const PREPENDED = /^(return-path|x-original-to|delivered-to):/i;

export interface InsertPoint {
  /** Byte offset in the stored message. */
  offset: number;
  /** The message's own line end, reused for the inserted fields. */
  eol: '\n' | '\r\n';
}

export function insertPoint(header: Buffer, fromPostfix: boolean): InsertPoint {
  const eol = header.indexOf('\r\n') >= 0 && header.indexOf('\r\n') <= header.indexOf('\n') ? '\r\n' : '\n';
  if (!fromPostfix) return { offset: 0, eol };
  let offset = 0;
  let inPrepended = false;
  while (offset < header.length) {
    const lf = header.indexOf(0x0a, offset);
    if (lf < 0) break; // an unterminated last line: insert before it, never glued to it
    const end = lf + 1;
    const line = header.subarray(offset, end).toString('latin1');
    const continuation = line.startsWith(' ') || line.startsWith('\t');
    if (PREPENDED.test(line)) inPrepended = true;
    else if (!(continuation && inPrepended)) break;
    offset = end;
  }
  return { offset, eol };
}
