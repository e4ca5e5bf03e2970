/**
 * clamd's INSTREAM and PING commands (clamd(8), docs/man/clamd.8.in): command
 * bytes, chunk framing, reply parsing. Pure: no sockets, no files (client.ts
 * does the I/O); tested with replies captured from a real clamd 1.4.6.
 */

// clamd(8): "It's recommended to prefix clamd commands with the letter z ... to
// indicate that the command will be delimited by a NULL character"; INSTREAM
// must be prefixed. Replies then end with NUL too.
export const INSTREAM_COMMAND = Buffer.from('zINSTREAM\0', 'latin1');
export const PING_COMMAND = Buffer.from('zPING\0', 'latin1');
/** A zero-length chunk ends the stream. */
export const STREAM_END = Buffer.alloc(4);
/** Data bytes per chunk; each chunk is also a write, so this bounds memory per scan. */
export const CHUNK_SIZE = 64 * 1024;

export type ClamdReply =
  | { verdict: 'clean' }
  | { verdict: 'infected'; signature: string }
  | { verdict: 'error'; why: string };

/**
 * frameChunk - `<4-byte unsigned big-endian length><data>` (clamd(8) INSTREAM).
 * An empty chunk would end the stream early, so it is refused here.
 */
export function frameChunk(data: Buffer): Buffer {
  if (data.length === 0) throw new RangeError('an empty INSTREAM chunk would end the stream');
  if (data.length > 0xffffffff) throw new RangeError('INSTREAM chunk longer than 2^32-1 bytes');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(data.length, 0);
  return Buffer.concat([head, data]);
}

function printable(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}

/**
 * parseReply - the text clamd sent before closing. One line per result, ended by
 * NUL (z commands) or LF (n commands). `stream: OK` is the only clean answer; any
 * `FOUND` wins (never lose a detection, e.g. with AllMatchScan); `... ERROR`
 * (e.g. `INSTREAM size limit exceeded. ERROR`) and anything unrecognised is an
 * error, never clean.
 */
export function parseReply(text: string): ClamdReply {
  const lines = text.split(/[\0\n]/).map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
  if (lines.length === 0) return { verdict: 'error', why: 'empty reply' };
  for (const line of lines) {
    const m = /^stream: (.+) FOUND$/.exec(line);
    if (m && m[1]!.trim() !== '') return { verdict: 'infected', signature: m[1]!.trim() };
  }
  const error = lines.find((l) => / ?ERROR$/.test(l));
  if (error) return { verdict: 'error', why: `clamd: ${printable(error.replace(/^stream: /, ''), 120)}` };
  if (lines.every((l) => l === 'stream: OK')) return { verdict: 'clean' };
  return { verdict: 'error', why: `not a clamd reply: ${printable(lines.join(' | '))}` };
}

/** isPong - the reply to zPING. */
export function isPong(text: string): boolean {
  return /^PONG[\0\n]?$/.test(text);
}
