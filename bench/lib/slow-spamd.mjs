// bench/lib/slow-spamd.mjs: owns the stand-in scanner of the `flood-lmtp`
// section: a spamd on 127.0.0.1 that reads a whole SPAMC/1.x request, waits
// `delayMs` (1 s: the scan time of the backscatter incident), then answers a
// valid SPAMD/1.1 ham reply for the command asked (PING, CHECK, SYMBOLS,
// REPORT, HEADERS, PROCESS), as SpamAssassin's spamd 4.0.1 words them
// (replies captured in test/fixtures/spamd/). It scans any number of messages
// at once, so only the clients' own limits (a lockfile, a process per
// message) decide the throughput. It judges nothing: every message is ham.
// It must not depend on anything outside bench/ (no /work/shared, no spamd).
import { createServer } from 'node:net';

const STATUS = 'Spam: False ; 0.0 / 5.0';
const SPAM_HEADERS = [
  'X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on bench-stand-in',
  'X-Spam-Level: ',
  'X-Spam-Status: No, score=0.0 required=5.0 tests=BENCH_STAND_IN autolearn=disabled',
  '\tversion=4.0.1',
];

/** The request head (up to the empty line) and what follows it; null while incomplete. */
function splitHead(buf) {
  const i = buf.indexOf('\r\n\r\n');
  const j = buf.indexOf('\n\n');
  if (i < 0 && j < 0) return null;
  const [at, len] = i >= 0 && (j < 0 || i < j) ? [i, 4] : [j, 2];
  return { head: buf.subarray(0, at).toString('latin1'), rest: buf.subarray(at + len) };
}

/** The message with spamd's X-Spam-* fields in front, in the message's own line ends (as spamd keeps them). */
function marked(body) {
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  return Buffer.concat([Buffer.from(SPAM_HEADERS.join(eol) + eol, 'latin1'), body]);
}

/** The header block of a message, with its empty line (what HEADERS returns). */
function headerBlock(msg) {
  const s = msg.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  return Buffer.from(m ? s.slice(0, m.index + m[0].length) : `${s}\n`, 'latin1');
}

/** reply: the bytes spamd sends for COMMAND and the request body. */
export function reply(command, body) {
  if (command === 'PING') return Buffer.from('SPAMD/1.5 0 PONG\r\n', 'latin1');
  const head = (extra, content) =>
    Buffer.concat([Buffer.from(`SPAMD/1.1 0 EX_OK\r\n${content ? `Content-length: ${content.length}\r\n` : ''}${extra}\r\n\r\n`, 'latin1'), content ?? Buffer.alloc(0)]);
  switch (command) {
    case 'CHECK':
      return head(STATUS);
    case 'SYMBOLS':
      return head(STATUS, Buffer.from('BENCH_STAND_IN', 'latin1'));
    case 'REPORT':
      return head(STATUS, Buffer.from('Spam detection software: stand-in of the mda bench; every message is ham.\r\n', 'latin1'));
    case 'HEADERS':
      return head(STATUS, headerBlock(marked(body)));
    case 'PROCESS':
      return head(STATUS, marked(body));
    default:
      return Buffer.from('SPAMD/1.0 76 Bad header line: (unknown command)\r\n', 'latin1');
  }
}

/**
 * startSlowSpamd: listen on 127.0.0.1 (a free port); resolves to
 * { host, port, stats(), close() }. stats() = { scans, peak, bad }: scans
 * answered, the most requests held at once, requests that were not SPAMC.
 */
export function startSlowSpamd({ delayMs = 1000 } = {}) {
  let scans = 0;
  let active = 0;
  let peak = 0;
  let bad = 0;
  const sockets = new Set();
  const timers = new Set();
  // allowHalfOpen: clients half-close after the body (spamc, mda); the reply still goes out.
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let req = null; // { command, length }
    let done = false;
    const answer = (body) => {
      if (done) return;
      done = true;
      active++;
      peak = Math.max(peak, active);
      const t = setTimeout(() => {
        timers.delete(t);
        active--;
        if (!sock.destroyed) sock.end(reply(req.command, body));
        if (req.command !== 'PING') scans++;
      }, req.command === 'PING' ? 0 : delayMs);
      timers.add(t);
    };
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (!req) {
        const split = splitHead(buf);
        if (!split) return;
        const lines = split.head.split(/\r?\n/);
        const m = /^([A-Z]+) SPAMC\/\d+\.\d+$/.exec(lines[0] ?? '');
        if (!m) {
          bad++;
          done = true;
          sock.end('SPAMD/1.0 76 Bad header line\r\n');
          return;
        }
        const cl = lines.map((l) => /^Content-length:\s*(\d+)\s*$/i.exec(l)).find(Boolean);
        req = { command: m[1], length: cl ? Number(cl[1]) : null };
        buf = split.rest;
      }
      if (req.command === 'PING' || (req.length !== null && buf.length >= req.length)) answer(buf.subarray(0, req.length ?? 0));
    };
    sock.on('data', onData);
    // Without Content-length spamd reads to EOF (PROTOCOL); so does the stand-in.
    sock.on('end', () => {
      if (req && !done) answer(buf);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        host: '127.0.0.1',
        port,
        stats: () => ({ scans, peak, bad, active }),
        resetPeak: () => {
          peak = active;
        },
        close: () =>
          new Promise((res) => {
            for (const t of timers) clearTimeout(t);
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
