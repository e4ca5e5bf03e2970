/**
 * One message over one SMTP connection, as the Postfix benches send their floods:
 * no pipelining, each reply awaited. Must not: retry (a failed send is the bench's error).
 */
import { connect } from 'node:net';

/** One message over one SMTP connection (no pipelining); rejects on any non-2xx/3xx reply. */
export function smtpOnce(port, from, to, body) {
  return new Promise((res, rej) => {
    const sock = connect(port, '127.0.0.1');
    const steps = [null, 'EHLO bench.test', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', `${body.replace(/\n/g, '\r\n')}\r\n.`, 'QUIT'];
    let buf = '';
    let i = 0;
    sock.setTimeout(60_000, () => sock.destroy(new Error('SMTP timeout')));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line[3] === '-') continue; // a multi-line reply goes on
        if (!/^[23]/.test(line)) return sock.destroy(new Error(`SMTP ${steps[i] ?? 'greeting'}: ${line}`));
        if (++i >= steps.length) return sock.end();
        sock.write(`${steps[i]}\r\n`);
      }
    });
    sock.on('error', rej);
    sock.on('close', () => (i >= steps.length ? res() : rej(new Error('SMTP connection closed early'))));
  });
}
