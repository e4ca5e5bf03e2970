/**
 * A scriptable fake spamd / clamd for the scanner fault catalogue, on 127.0.0.1
 * (ephemeral port) and optionally a unix socket. It parses what clients send
 * (Content-length, framing, half-close), counts connections, answers per its
 * mode; close() / closeAllFakeScanners() close everything it started.
 */
import fs from 'node:fs';
import net from 'node:net';

export type FakeDialect = 'spamd' | 'clamd';

/**
 * ok-clean / ok-spam / ok-infected: a correct answer (spam and infected are the
 *   positive verdict in either dialect);
 * hang: read the request, never answer (spamd starting up);
 * close: accept and close at once, reading nothing (clamd after a corrupt update);
 * trickle: the correct answer, one byte every `delayMs`;
 * garbage: an HTTP error page; half: the first half of the answer, then close;
 * late: the correct answer after `delayMs`;
 * slow: each scan takes `delayMs`, at most `workers` at a time (queued: overload);
 * huge: `hugeBytes` of reply; reset: read the request, then RST.
 */
export type FakeMode = 'ok-clean' | 'ok-spam' | 'ok-infected' | 'hang' | 'close' | 'trickle' | 'garbage' | 'half' | 'late' | 'slow' | 'huge' | 'reset';

export interface FakeScannerOptions {
  dialect: FakeDialect;
  mode: FakeMode;
  /** trickle: ms per byte; late: ms before answering; slow: ms per scan. Default 100. */
  delayMs?: number;
  /** slow: scans served at a time (default 1). */
  workers?: number;
  /** huge: reply size in bytes (default 8 MiB). */
  hugeBytes?: number;
  /** Also listen on this unix socket path (an existing file there is removed). */
  socketPath?: string;
  /** spamd score/threshold for ok-* (default 1.2 clean, 1005.2 spam; threshold 5.0). */
  score?: number;
  /** clamd signature for ok-infected (default Fake.Test.Signature.UNOFFICIAL). */
  signature?: string;
  /** Overrides the correct answer (modes still apply: late, trickle, half...). */
  reply?: (req: ReceivedRequest) => Buffer | string;
}

/** What one connection sent, as parsed by the fake. */
export interface ReceivedRequest {
  connection: number;
  /** All raw bytes received (up to 64 MiB). */
  bytes: Buffer;
  /** spamd: CHECK, HEADERS, PING...; clamd: INSTREAM, PING... (without the z/n prefix). */
  command?: string;
  /** spamd request header lines, by name as sent (e.g. 'Content-length', 'User'). */
  headers: Record<string, string>;
  /** spamd body / clamd stream data (unframed). */
  body: Buffer;
  /** clamd: number of non-empty INSTREAM chunks. */
  chunks: number;
  /** The request was complete (spamd: Content-length bytes or EOF; clamd: zero-length chunk). */
  complete: boolean;
  /** The client half-closed (FIN) its side. */
  halfClosed: boolean;
}

export interface FakeScanner {
  readonly dialect: FakeDialect;
  readonly port: number;
  /** `127.0.0.1:<port>`, as a hosts entry. */
  readonly endpoint: string;
  readonly socketPath?: string;
  /** Connections accepted so far (TCP and unix). */
  readonly connections: number;
  readonly received: ReceivedRequest[];
  /** Change mode or options for later requests. */
  set(opts: Partial<Omit<FakeScannerOptions, 'dialect' | 'socketPath'>>): void;
  close(): Promise<void>;
}

const open = new Set<FakeScanner>();
const MAX_RECORD = 64 * 1024 * 1024;
const GARBAGE = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<h1>400 Bad Request</h1>\n';

export async function startFakeScanner(options: FakeScannerOptions): Promise<FakeScanner> {
  let opts = { ...options };
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const received: ReceivedRequest[] = [];
  let connections = 0;
  let busy = 0;
  const queue: (() => void)[] = [];
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => (timers.delete(t), fn()), ms);
    timers.add(t);
  };

  function answerFor(req: ReceivedRequest): Buffer {
    if (opts.reply) return Buffer.from(opts.reply(req) as string, 'latin1');
    const positive = opts.mode === 'ok-spam' || opts.mode === 'ok-infected';
    if (opts.dialect === 'clamd') {
      const term = req.bytes[0] === 0x6e ? '\n' : '\0'; // n-commands get LF, z-commands NUL
      if (req.command === 'PING') return Buffer.from(`PONG${term}`);
      if (req.command !== 'INSTREAM') return Buffer.from(`UNKNOWN COMMAND${term}`);
      return Buffer.from(positive ? `stream: ${opts.signature ?? 'Fake.Test.Signature.UNOFFICIAL'} FOUND${term}` : `stream: OK${term}`);
    }
    if (req.command === 'PING') return Buffer.from('SPAMD/1.5 0 PONG\r\n');
    const score = (opts.score ?? (positive ? 1005.2 : 1.2)).toFixed(1);
    const spamLine = `Spam: ${positive ? 'True' : 'False'} ; ${score} / 5.0\r\n`;
    if (req.command !== 'HEADERS' && req.command !== 'PROCESS') return Buffer.from(`SPAMD/1.1 0 EX_OK\r\n${spamLine}\r\n`);
    const status = `X-Spam-Status: ${positive ? 'Yes' : 'No'}, score=${score} required=5.0 tests=FAKE_RULE,\r\n\tNO_RELAYS autolearn=disabled version=4.0.1\r\n`;
    const own = req.body.toString('latin1').split(/\r?\n\r?\n/, 1)[0] ?? '';
    const block = `X-Spam-Checker-Version: SpamAssassin 4.0.1 (fake)\r\n${positive ? 'X-Spam-Flag: YES\r\n' : ''}${status}${own}\r\n\r\n`;
    return Buffer.from(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${Buffer.byteLength(block, 'latin1')}\r\n${spamLine}\r\n${block}`, 'latin1');
  }

  function respond(socket: net.Socket, req: ReceivedRequest): void {
    const delay = opts.delayMs ?? 100;
    const reply = answerFor(req);
    const send = (b: Buffer | string) => !socket.destroyed && socket.end(b);
    switch (opts.mode) {
      case 'hang':
        return;
      case 'garbage':
        return void send(GARBAGE);
      case 'half':
        return void send(reply.subarray(0, Math.floor(reply.length / 2)));
      case 'late':
        return later(delay, () => send(reply));
      case 'reset':
        return void socket.resetAndDestroy();
      case 'trickle': {
        let i = 0;
        const next = () => {
          if (socket.destroyed) return;
          if (i >= reply.length) return void socket.end();
          socket.write(reply.subarray(i, ++i));
          later(delay, next);
        };
        return next();
      }
      case 'huge': {
        const total = opts.hugeBytes ?? 8 * 1024 * 1024;
        const block = Buffer.alloc(64 * 1024, 'X');
        let sent = 0;
        const pump = () => {
          while (!socket.destroyed && sent < total) {
            sent += block.length;
            if (!socket.write(block)) return void socket.once('drain', pump);
          }
          if (!socket.destroyed) socket.end();
        };
        socket.write(opts.dialect === 'spamd' ? 'SPAMD/1.1 0 EX_OK\r\n' : 'stream: ');
        return pump();
      }
      case 'slow': {
        const run = () => {
          busy++;
          later(delay, () => {
            busy--;
            send(reply);
            queue.shift()?.();
          });
        };
        return busy < (opts.workers ?? 1) ? run() : void queue.push(run);
      }
      default:
        return void send(reply);
    }
  }

  function onConnection(socket: net.Socket): void {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (opts.mode === 'close') return void socket.destroy();
    const req: ReceivedRequest = { connection: connections, bytes: Buffer.alloc(0), headers: {}, body: Buffer.alloc(0), chunks: 0, complete: false, halfClosed: false };
    received.push(req);
    let answered = false;
    const answer = () => {
      if (answered) return;
      answered = true;
      respond(socket, req);
    };
    socket.on('data', (d: Buffer) => {
      if (req.bytes.length < MAX_RECORD) req.bytes = Buffer.concat([req.bytes, d]);
      if (!answered && parse(opts.dialect, req)) (req.complete = true), answer();
    });
    socket.on('end', () => {
      req.halfClosed = true;
      if (answered) return;
      // spamd reads to EOF when there is no Content-length
      if (parse(opts.dialect, req, true)) return (req.complete = true), answer();
      if (opts.mode === 'hang') return;
      answered = true; // an incomplete request: answer as the real servers do
      if (opts.dialect === 'clamd') return void socket.end();
      const want = req.headers['Content-length'] ?? '?';
      socket.end(`SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected ${want} bytes, got ${req.body.length} bytes)\r\n`);
    });
  }

  const servers: net.Server[] = [];
  const listen = (srv: net.Server, arg: number | string) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      const ready = () => (srv.off('error', reject), resolve());
      if (typeof arg === 'string') srv.listen(arg, ready);
      else srv.listen(arg, '127.0.0.1', ready);
    });
  const tcp = net.createServer({ allowHalfOpen: true }, onConnection);
  servers.push(tcp);
  await listen(tcp, 0);
  if (opts.socketPath) {
    fs.rmSync(opts.socketPath, { force: true });
    const unix = net.createServer({ allowHalfOpen: true }, onConnection);
    servers.push(unix);
    await listen(unix, opts.socketPath);
  }
  const port = (tcp.address() as net.AddressInfo).port;

  const fake: FakeScanner = {
    dialect: opts.dialect,
    port,
    endpoint: `127.0.0.1:${port}`,
    ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
    get connections() {
      return connections;
    },
    received,
    set(more) {
      opts = { ...opts, ...more };
    },
    async close() {
      open.delete(fake);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      queue.length = 0;
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      if (opts.socketPath) fs.rmSync(opts.socketPath, { force: true });
    },
  };
  open.add(fake);
  return fake;
}

/**
 * parse - update `req` from its raw bytes; true once the request is complete.
 * spamd: `CMD SPAMC/1.5`, headers, empty line, Content-length bytes (or EOF).
 * clamd: `zCMD\0` / `nCMD\n`; INSTREAM then <u32 BE length><data>... until a 0 length.
 */
function parse(dialect: FakeDialect, req: ReceivedRequest, eof = false): boolean {
  const b = req.bytes;
  if (dialect === 'spamd') {
    const end = b.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const [first, ...lines] = b.subarray(0, end).toString('latin1').split('\r\n');
    req.command = first!.split(' ')[0];
    req.headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
    req.body = b.subarray(end + 4);
    if (req.command === 'PING') return true;
    const cl = req.headers['Content-length'];
    return cl !== undefined ? req.body.length >= Number(cl) : eof;
  }
  const term = b[0] === 0x6e ? 0x0a : 0x00;
  const cmdEnd = b.indexOf(term);
  if (cmdEnd < 0) return false;
  req.command = b.subarray(1, cmdEnd).toString('latin1');
  if (req.command !== 'INSTREAM') return true;
  const parts: Buffer[] = [];
  let off = cmdEnd + 1;
  req.chunks = 0;
  while (off + 4 <= b.length) {
    const len = b.readUInt32BE(off);
    if (len === 0) {
      req.body = Buffer.concat(parts);
      return true;
    }
    if (off + 4 + len > b.length) break;
    parts.push(b.subarray(off + 4, off + 4 + len));
    req.chunks++;
    off += 4 + len;
  }
  req.body = Buffer.concat(parts);
  return false;
}

/** refusedPort - a 127.0.0.1 port that refuses connections (bound, then closed). */
export async function refusedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** closeAllFakeScanners - for afterAll: closes every fake still open. */
export async function closeAllFakeScanners(): Promise<void> {
  await Promise.all([...open].map((f) => f.close()));
}
