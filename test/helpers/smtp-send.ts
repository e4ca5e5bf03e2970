/**
 * A tiny SMTP client for end-to-end tests: sends one message over one
 * connection and returns the queue id the server reported. Test helper only:
 * no TLS, no AUTH, no pipelining. Bare LF in the message becomes CRLF and lines
 * starting with "." are dot-stuffed (RFC 5321 §4.5.2), so what the server
 * stores is exactly `data` with LF line ends.
 */
import net from 'node:net';

export interface SmtpSendOptions {
  host?: string;
  port: number;
  /** Envelope sender; '' sends the null sender `MAIL FROM:<>`. */
  from: string;
  to: string | string[];
  /** The message (headers, blank line, body) with LF or CRLF line ends. */
  data: string | Buffer;
  helo?: string;
  /** For the whole dialogue. */
  timeoutMs?: number;
  /** Declare the message size in MAIL FROM (RFC 1870 `SIZE=`), as ESMTP senders do; smtpd passes it to policy services. */
  declareSize?: boolean;
}

export interface SmtpSendResult {
  /** Postfix's queue id from "250 2.0.0 Ok: queued as ID" ('' if none). */
  queueId: string;
  /** The reply to the end of DATA. */
  reply: string;
  /** Every line sent (">") and received ("<"), for failure messages. */
  transcript: string[];
}

export class SmtpError extends Error {
  constructor(
    message: string,
    readonly transcript: string[],
  ) {
    super(`${message}\n--- SMTP transcript ---\n${transcript.join('\n')}`);
    this.name = 'SmtpError';
  }
}

/** toSmtpData - message bytes as a DATA payload: CRLF line ends, dot-stuffed, ending in CRLF.CRLF. */
export function toSmtpData(data: string | Buffer): Buffer {
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : Buffer.from(data, 'utf8').toString('latin1');
  let lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines = lines.slice(0, -1);
  const stuffed = lines.map((l) => (l.startsWith('.') ? `.${l}` : l));
  return Buffer.from(`${stuffed.join('\r\n')}\r\n.\r\n`, 'latin1');
}

/** smtpSend - deliver one message by SMTP; rejects with SmtpError on any non-2xx/3xx reply. */
export async function smtpSend(opts: SmtpSendOptions): Promise<SmtpSendResult> {
  const host = opts.host ?? '127.0.0.1';
  const rcpts = Array.isArray(opts.to) ? opts.to : [opts.to];
  const transcript: string[] = [];
  const socket = net.connect({ host, port: opts.port });
  socket.setNoDelay(true);

  // reply reader: collects lines until one with "NNN " (a final line)
  let buffered = '';
  let pending: { resolve: (r: string) => void; reject: (e: Error) => void } | null = null;
  let current: string[] = [];
  const replies: string[] = [];
  let failure: Error | null = null;
  const deliver = () => {
    if (!pending) return;
    if (replies.length > 0) {
      const p = pending;
      pending = null;
      p.resolve(replies.shift()!);
    } else if (failure) {
      const p = pending;
      pending = null;
      p.reject(failure);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      transcript.push(`< ${line}`);
      current.push(line);
      if (/^\d{3}( |$)/.test(line)) {
        replies.push(current.join('\n'));
        current = [];
      }
    }
    deliver();
  });
  socket.on('error', (err) => {
    failure = err;
    deliver();
  });
  socket.on('close', () => {
    failure ??= new Error('connection closed by server');
    deliver();
  });
  const timer = setTimeout(() => {
    failure = new Error(`SMTP dialogue timed out after ${opts.timeoutMs ?? 30000} ms`);
    socket.destroy();
    deliver();
  }, opts.timeoutMs ?? 30000);

  const readReply = () =>
    new Promise<string>((resolve, reject) => {
      pending = { resolve, reject };
      deliver();
    });
  const expect = async (what: string, ok: RegExp) => {
    let reply: string;
    try {
      reply = await readReply();
    } catch (err) {
      throw new SmtpError(`${what}: ${(err as Error).message}`, transcript);
    }
    if (!ok.test(reply)) throw new SmtpError(`${what}: unexpected reply ${JSON.stringify(reply)}`, transcript);
    return reply;
  };
  const send = (line: string) => {
    transcript.push(`> ${line}`);
    socket.write(`${line}\r\n`);
  };

  try {
    await expect('banner', /^220/);
    send(`EHLO ${opts.helo ?? 'client.example.org'}`);
    await expect('EHLO', /^250/);
    const payload = toSmtpData(opts.data);
    send(`MAIL FROM:<${opts.from}>${opts.declareSize ? ` SIZE=${payload.length}` : ''}`);
    await expect('MAIL FROM', /^250/);
    for (const r of rcpts) {
      send(`RCPT TO:<${r}>`);
      await expect(`RCPT TO:<${r}>`, /^25[01]/);
    }
    send('DATA');
    await expect('DATA', /^354/);
    transcript.push(`> (${payload.length} bytes of message data)`);
    socket.write(payload);
    const reply = await expect('end of DATA', /^250/);
    send('QUIT');
    await expect('QUIT', /^221/).catch(() => undefined); // the message is queued either way
    const queueId = /queued as ([0-9A-Za-z]+)/.exec(reply)?.[1] ?? '';
    return { queueId, reply, transcript };
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
