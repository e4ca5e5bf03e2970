// bench/lib/lmtp-client.mjs: owns a small, fast LMTP client for benchmarks, the same for
// every server it drives: one connection reused for many transactions; per transaction
// MAIL, the RCPTs and DATA go in one write (PIPELINING, RFC 2920), the body follows the
// 354, then one reply per accepted recipient is read (RFC 2033 §4.2) - as Postfix's
// lmtp(8) client does. Every wait for the server is bounded (an idle socket timeout that is
// armed only while a reply is awaited). Knows nothing of timing, servers or mailboxes.
import { connect } from 'node:net';

const CRLF_DOT = Buffer.from('.\r\n');

/**
 * openLmtp: connect to a unix socket path (or { host, port }), read the greeting, send LHLO.
 * Resolves to { lhlo, transact(from, rcpts, body), quit(), destroy() }; rejects on a refused
 * greeting or LHLO, or when the server says nothing for `timeoutMs`.
 */
export function openLmtp(to, { timeoutMs = 30_000, helo = 'bench.example' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = typeof to === 'string' ? connect(to) : connect(to.port, to.host);
    const replies = []; // complete replies not yet asked for
    const waiters = []; // { n, got: [], resolve, reject }
    let partial = ''; // bytes after the last CRLF
    let lines = []; // lines of a multi-line reply so far
    let failed = null;

    const fail = (err) => {
      if (failed) return;
      failed = err;
      sock.destroy();
      for (const w of waiters.splice(0)) w.reject(err);
    };
    const settle = () => {
      while (waiters.length && replies.length) {
        const w = waiters[0];
        while (w.got.length < w.n && replies.length) w.got.push(replies.shift());
        if (w.got.length < w.n) break;
        waiters.shift();
        w.resolve(w.got);
      }
      if (!waiters.length) sock.setTimeout(0);
    };
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      const text = partial + d.toString('latin1');
      let start = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        const line = text.slice(start, text.charCodeAt(i - 1) === 13 ? i - 1 : i);
        start = i + 1;
        lines.push(line);
        if (line.charCodeAt(3) !== 45 /* '-' */) {
          replies.push(lines.length === 1 ? line : lines.join('\n'));
          lines = [];
        }
      }
      partial = text.slice(start);
      settle();
    });
    sock.on('timeout', () => fail(new Error(`LMTP server silent for ${timeoutMs} ms`)));
    sock.on('error', (e) => fail(e));
    sock.on('close', () => fail(new Error('LMTP server closed the connection')));

    /** The next n replies (a bounded wait). */
    const next = (n) =>
      failed
        ? Promise.reject(failed)
        : new Promise((res, rej) => {
            waiters.push({ n, got: [], resolve: res, reject: rej });
            sock.setTimeout(timeoutMs);
            settle();
          });

    /** write with back-pressure: resolves once the kernel took it or the buffer drained. */
    const write = (buf) => (sock.write(buf) ? Promise.resolve() : new Promise((res) => sock.once('drain', res)));

    /**
     * One transaction. `body` is the dot-stuffed message ending in CRLF: a Buffer, or an
     * (async) iterable of Buffers for a message too large to hold. Resolves to { ok, replies }:
     * ok when MAIL, every RCPT and every per-recipient reply after the dot were 2xx.
     */
    const transact = async (from, rcpts, body) => {
      const cmds = `MAIL FROM:<${from}>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join('')}DATA\r\n`;
      sock.write(cmds);
      const head = await next(2 + rcpts.length);
      const accepted = head.slice(1, -1).filter((r) => r.startsWith('2')).length;
      if (!head.at(-1).startsWith('354')) return { ok: false, replies: head };
      if (Buffer.isBuffer(body)) {
        sock.cork();
        sock.write(body);
        sock.write(CRLF_DOT);
        process.nextTick(() => sock.uncork());
      } else {
        for await (const chunk of body) await write(chunk);
        await write(CRLF_DOT);
      }
      const after = await next(accepted);
      const all = [...head, ...after];
      return { ok: head[0].startsWith('2') && accepted === rcpts.length && after.every((r) => r.startsWith('2')), replies: all };
    };

    const quit = async () => {
      if (failed) return;
      sock.write('QUIT\r\n');
      await next(1).catch(() => {});
      sock.destroy();
    };

    (async () => {
      const [greeting] = await next(1);
      if (!greeting.startsWith('220')) throw new Error(`greeting: ${greeting}`);
      sock.write(`LHLO ${helo}\r\n`);
      const [lhlo] = await next(1);
      if (!lhlo.startsWith('250')) throw new Error(`LHLO: ${lhlo}`);
      return lhlo;
    })().then(
      (lhlo) => resolve({ lhlo, transact, quit, destroy: () => sock.destroy() }),
      (e) => {
        fail(e);
        reject(e);
      },
    );
  });
}
